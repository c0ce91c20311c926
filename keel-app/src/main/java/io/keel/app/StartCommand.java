package io.keel.app;

import io.keel.core.app.AppOptions;
import io.keel.core.app.KeelApp;
import io.keel.core.thread.CpuMask;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * {@code keel start}: run the target until SIGINT, SIGTERM or {@code spdk_kill_instance}. Without a config (and
 * without {@code --bare} or {@code --wait-for-rpc}) it serves the embedded default ({@link DefaultExport}).
 */
@Command(name = "start", aliases = "tgt", mixinStandardHelpOptions = true,
        description = "Start Keel: reactors, the JSON-RPC server, and the subsystems (with a config, its state).")
final class StartCommand implements Callable<Integer> {
    @Option(names = {"-m", "--cpumask"}, defaultValue = "0x1", description = "Reactor cores: hex mask (0x3) or list ([0,1]). Default: ${DEFAULT-VALUE}")
    String cpumask;

    @Option(names = {"-r", "--rpc-socket"}, defaultValue = "/var/tmp/keel.sock", description = "JSON-RPC Unix socket. Default: ${DEFAULT-VALUE}")
    Path rpcSocket;

    @Option(names = {"-c", "--config", "--json"}, description = "SPDK JSON config file to load at start")
    Path config;

    @Option(names = "--bare", description = "Without -c: start with no bdevs and no NVMe-oF export (as SPDK's nvmf_tgt)")
    boolean bare;

    @Option(names = "--wait-for-rpc", description = "Wait for framework_start_init before initialising subsystems")
    boolean waitForRpc;

    @Option(names = "--interrupt-mode", description = "Reactors sleep when idle (woken by messages, timers, fds) instead of busy-polling")
    boolean interruptMode;

    @Option(names = "--pin", description = "Pin each reactor's OS thread to its core")
    boolean pin;

    @Option(names = {"-S", "--vhost-socket-dir"}, defaultValue = "", description = "Folder of the vhost controllers' Unix sockets (each is DIR/ctrlr). Default: the current directory")
    Path vhostSocketDir;

    @Option(names = "--watchdog-ms", defaultValue = "100", description = "Report reactor iterations longer than this (0: off). Default: ${DEFAULT-VALUE}")
    long watchdogMillis;

    @Override
    public Integer call() throws Exception {
        boolean embedded = config == null && !bare && !waitForRpc;
        Path cfg = embedded ? DefaultExport.writeConfig() : config;
        AppOptions options = AppOptions.defaults()
                .withCores(CpuMask.parse(cpumask))
                .withRpcSocket(rpcSocket)
                .withConfig(cfg)
                .withWaitForRpc(waitForRpc)
                .withInterruptMode(interruptMode)
                .withPin(pin)
                .withWatchdogMillis(watchdogMillis)
                .withVhostSocketDir(vhostSocketDir);
        KeelApp app = KeelApp.create(options);
        Signal.handle(new Signal("INT"), s -> app.shutdown());
        Signal.handle(new Signal("TERM"), s -> app.shutdown());
        app.start();
        if (embedded) { // once the export is up (printed off the reactors)
            CompletableFuture<Void> up = new CompletableFuture<>();
            app.onAppThread(() -> app.whenInitialized(() -> up.complete(null)));
            up.thenRunAsync(() -> DefaultExport.printHowToConnect(System.out));
        }
        return app.awaitExit();
    }
}
