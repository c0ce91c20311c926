package io.keel.app;

import io.keel.app.bdevperf.BdevperfCommand;
import io.keel.app.perf.PerfCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code keel} launcher: {@code keel start}, {@code keel rpc}, {@code keel bdevperf}, {@code keel perf}. */
@Command(name = "keel", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
        description = "Keel: a user-space, poll-mode block storage stack (NVMe-oF, vhost, bdev) on the JVM.",
        subcommands = {StartCommand.class, RpcCommand.class, BdevperfCommand.class, PerfCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        CommandLine cl = new CommandLine(new Main());
        cl.getSubcommands().get("rpc").setUnmatchedOptionsArePositionalParams(true).setStopAtPositional(true);
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {io.keel.core.app.Version.current().version()};
        }
    }
}
