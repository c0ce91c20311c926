package io.keel.app;

import io.keel.core.testing.GuestHarness;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Scenario S4's Linux host: the kernel NVMe/TCP initiator in a QEMU guest running tests/e2e/raid-rebuild-guest.sh
 * against Keel on the host's 127.0.0.1. It boots and waits; {@link #connect} lets it connect and run fio verify
 * over its region of the namespace until {@link #stop}. Guest and test talk through files in a folder shared with
 * {@code guest-run.sh -w} ({@code ready}, {@code go}, {@code connected}, {@code stop}). Not thread-safe.
 */
final class RaidRebuildGuest implements AutoCloseable {
    static final String MARKER = "RAID-REBUILD-GUEST-OK";
    private static final Path SCRIPT = KeelProcess.ROOT.resolve("tests/e2e/raid-rebuild-guest.sh");
    /** guest-run.sh kills the guest after this long, whatever happens. */
    private static final int LIFE_S = 600;

    private final Process guest;
    private final Path sync;
    private final Path log;
    /** Kills the guest should the JVM exit without close() (a test timeout, Ctrl-C). */
    private final Thread killOnExit;

    private RaidRebuildGuest(Process guest, Path sync, Path log) {
        this.guest = guest;
        this.sync = sync;
        this.log = log;
        this.killOnExit = new Thread(() -> GuestHarness.kill(guest));
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    /** Boots the guest (2 vCPUs) for subsystem {@code nqn} on 127.0.0.1:{@code port}; fio uses its first bytes. */
    static RaidRebuildGuest boot(Path log, int port, String nqn, long regionBytes) throws IOException {
        Path sync = Files.createTempDirectory("keel-raid-guest");
        Process p = new ProcessBuilder(GuestHarness.RUN.toString(), "-c", "2", "-t", Integer.toString(LIFE_S),
                "-w", sync.toString(), SCRIPT.toString(), sync.toString(), "10.0.2.2", Integer.toString(port), nqn,
                Long.toString(regionBytes))
                .directory(KeelProcess.ROOT.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        p.getOutputStream().close();
        return new RaidRebuildGuest(p, sync, log);
    }

    /** nvme-tcp is loaded and the guest waits for {@link #connect}. */
    boolean ready() {
        return Files.exists(sync.resolve("ready"));
    }

    void connect() throws IOException {
        Files.createFile(sync.resolve("go"));
    }

    /** The namespace's block device is there and fio starts. */
    boolean connected() {
        return Files.exists(sync.resolve("connected"));
    }

    /** Lets the fio run under way finish, then disconnect. */
    void stop() throws IOException {
        if (!Files.exists(sync.resolve("stop"))) {
            Files.createFile(sync.resolve("stop"));
        }
    }

    boolean running() {
        return guest.isAlive();
    }

    /** The script's exit status (124: guest-run.sh's timeout). */
    int exitValue() {
        return guest.exitValue();
    }

    boolean passed() {
        return !guest.isAlive() && guest.exitValue() == 0 && KeelProcess.log(log).contains(MARKER);
    }

    Path log() {
        return log;
    }

    String logTail(int lines) {
        String[] all = KeelProcess.log(log).split("\n", -1);
        return String.join("\n", List.of(all).subList(Math.max(0, all.length - lines), all.length));
    }

    /** Kills the guest if it still runs and removes the shared folder. */
    @Override
    public void close() throws InterruptedException {
        if (guest.isAlive()) {
            guest.destroy(); // guest-run.sh stops QEMU and removes its run folder
            guest.waitFor(10, TimeUnit.SECONDS);
        }
        GuestHarness.kill(guest);
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down; the hook does no harm
        }
        try (Stream<Path> files = Files.walk(sync)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a temporary folder left behind
        }
    }
}
