package io.keel.core.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The QEMU harness at ../shared/guest (its README): boots a throw-away Linux guest whose root is the host's, to run
 * real peers (the kernel's NVMe/TCP initiator and target, fio, Soft-RoCE). Where it is, its one-time setup, and killing
 * a run. In the core's test jar so that every module's guest tests share it.
 */
public final class GuestHarness {
    /** The repository root: the {@code keel.root} property (failsafe sets it), else the parent of the module's folder. */
    public static final Path ROOT = Path.of(System.getProperty("keel.root", "..")).toAbsolutePath().normalize();
    public static final Path DIR = ROOT.resolve("../shared/guest").normalize();
    public static final Path RUN = DIR.resolve("guest-run.sh");
    private static final Duration SETUP_BOUND = Duration.ofMinutes(10);

    private GuestHarness() {
    }

    /**
     * Makes the harness ready (guest-setup.sh is idempotent and installs what is missing: QEMU, the guest kernel),
     * its output appended to {@code log}. Returns null when guests can run, or why they cannot on this machine (no
     * harness, or QEMU neither installed nor installable); throws when the setup failed although QEMU is there.
     */
    public static String prepare(Path log) throws IOException, InterruptedException {
        if (!Files.isExecutable(RUN)) {
            return "no QEMU guest harness at " + DIR + " (CI has it as ../shared/guest beside the clone)";
        }
        Process setup = new ProcessBuilder(DIR.resolve("guest-setup.sh").toString()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        setup.getOutputStream().close();
        if (!setup.waitFor(SETUP_BOUND.toSeconds(), TimeUnit.SECONDS)) {
            kill(setup);
            throw new AssertionError("guest-setup.sh did not finish within " + SETUP_BOUND.toMinutes() + " min; log "
                    + log);
        }
        if (setup.exitValue() == 0) {
            return null;
        }
        if (new ProcessBuilder("sh", "-c", "command -v qemu-system-x86_64").start().waitFor() != 0) {
            return "QEMU is not installed and guest-setup.sh could not install it; log " + log;
        }
        throw new AssertionError("guest-setup.sh failed although QEMU is installed; log " + log + ":\n"
                + read(log));
    }

    /** SIGKILL to the descendants (QEMU, timeout, tail) first: they are found through their live parent. */
    public static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
