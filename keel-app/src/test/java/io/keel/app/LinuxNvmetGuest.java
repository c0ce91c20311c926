package io.keel.app;

import io.keel.core.testing.GuestHarness;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real NVMe/TCP peer for tests of Keel's NVMe-oF host: the Linux kernel target (nvmet) in a QEMU guest
 * (../shared/guest), its port 4420 forwarded to the host's {@code 127.0.0.1:}{@link #port()}. One subsystem,
 * {@link #subnqn()}, open to any host; namespace 1 is a RAM disk of {@link #sizeBytes()} (512 B blocks). More
 * namespaces can be added and removed while hosts are connected.
 *
 * <p>The guest runs tests/e2e/nvmet-guest-target.sh. The fixture talks to it through files in a temporary
 * folder shared with the guest ({@code guest-run.sh -w}): the guest touches {@code ready}, answers each
 * {@code cmd-N} with {@code ack-N}, and stops when {@code done} appears. Everything the guest prints and
 * every step of the fixture go to {@link #log()}.
 *
 * <p>Knows nothing of Keel's host API: a test connects with whichever host it tests. Skips the test (a JUnit
 * assumption) when the harness or QEMU is missing. Not thread-safe.
 */
final class LinuxNvmetGuest implements AutoCloseable {
    static final String SUBNQN = "nqn.2024-11.io.keel:linux-nvmet";
    private static final Path SCRIPT = KeelProcess.ROOT.resolve("tests/e2e/nvmet-guest-target.sh");
    private static final Duration COMMAND_BOUND = Duration.ofSeconds(60);
    private static final Duration STOP_BOUND = Duration.ofSeconds(60);
    /** The guest stops by itself after this long, in case neither close() nor the shutdown hook stops it. */
    private static final Duration GUEST_LIFE = Duration.ofMinutes(30);
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    private final Process guest;
    /** Kills the guest should the JVM exit without close() (a test timeout, Ctrl-C). */
    private final Thread killOnExit;
    private final Path sync;
    private final Path log;
    private final int port;
    private final long sizeBytes;
    private int nextCommand = 1;
    private boolean closed;

    private LinuxNvmetGuest(Process guest, Path sync, Path log, int port, long sizeBytes) {
        this.guest = guest;
        this.sync = sync;
        this.log = log;
        this.port = port;
        this.sizeBytes = sizeBytes;
        this.killOnExit = new Thread(() -> GuestHarness.kill(guest));
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    /**
     * Boots the guest with namespace 1 of {@code sizeMb} MiB and returns once nvmet is ready and reachable on
     * the host port, within {@code bound} (the guest's own setup, the first time, may take longer: it is
     * bounded separately). The log goes to {@code logDir}.
     */
    static LinuxNvmetGuest start(Path logDir, int sizeMb, Duration bound) throws IOException, InterruptedException {
        Files.createDirectories(logDir);
        int port = freePort();
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path log = logDir.resolve("nvmet-guest-" + stamp + "-" + port + ".log");
        step(log, "guest-setup.sh");
        String cannot = GuestHarness.prepare(log);
        Assumptions.assumeTrue(cannot == null, cannot);

        Path sync = Files.createTempDirectory("keel-nvmet-guest");
        step(log, "booting the guest: nvmet %s, namespace 1 of %d MiB, host 127.0.0.1:%d -> guest :4420, folder %s",
                SUBNQN, sizeMb, port, sync);
        long lifeS = GUEST_LIFE.toSeconds();
        Process p = new ProcessBuilder(GuestHarness.RUN.toString(), "-t", Long.toString(lifeS + 60),
                "-w", sync.toString(), "--hostfwd", "tcp:127.0.0.1:" + port + "-:4420", SCRIPT.toString(),
                sync.toString(), SUBNQN, Integer.toString(sizeMb), Long.toString(lifeS))
                .directory(KeelProcess.ROOT.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        p.getOutputStream().close();
        LinuxNvmetGuest g = new LinuxNvmetGuest(p, sync, log, port, (long) sizeMb << 20);
        try {
            long t0 = System.nanoTime();
            g.waitUntil("nvmet ready and reachable on 127.0.0.1:" + port, bound,
                    () -> Files.exists(sync.resolve("ready")) && answers(port));
            g.step("nvmet ready after %.1f s", (System.nanoTime() - t0) / 1e9);
            return g;
        } catch (Throwable t) {
            g.close();
            throw t;
        }
    }

    int port() {
        return port;
    }

    String subnqn() {
        return SUBNQN;
    }

    /** Size of namespace 1 (and of each added namespace). */
    long sizeBytes() {
        return sizeBytes;
    }

    /** The subsystem as an SPDK transport ID string ({@code -r} of spdk_nvme_perf, keel perf). */
    String trid() {
        return "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:" + port + " subnqn:" + SUBNQN;
    }

    /** The guest's output and the fixture's steps. */
    Path log() {
        return log;
    }

    /** Adds namespace {@code nsid} (a memory-backed null_blk device of {@link #sizeBytes()}) and enables it. */
    void addNamespace(int nsid) throws IOException, InterruptedException {
        command("ns-add " + nsid);
    }

    /** Disables and removes namespace {@code nsid}. */
    void removeNamespace(int nsid) throws IOException, InterruptedException {
        command("ns-remove " + nsid);
    }

    /** The last {@code lines} lines of the log, for failure messages. */
    String logTail(int lines) {
        String[] all = KeelProcess.log(log).split("\n", -1);
        return String.join("\n", List.of(all).subList(Math.max(0, all.length - lines), all.length));
    }

    /** Sends {@code cmd-N} (written under another name, then renamed: the guest never reads half a command). */
    private void command(String text) throws IOException, InterruptedException {
        int n = nextCommand++;
        step("cmd-%d: %s", n, text);
        Path tmp = sync.resolve(".cmd-" + n);
        Files.writeString(tmp, text + "\n");
        Files.move(tmp, sync.resolve("cmd-" + n), StandardCopyOption.ATOMIC_MOVE);
        Path ack = sync.resolve("ack-" + n);
        long t0 = System.nanoTime();
        waitUntil("ack-" + n + " for '" + text + "'", COMMAND_BOUND, () -> Files.exists(ack));
        String answer = Files.readString(ack).strip();
        step("ack-%d: %s after %.1f s", n, answer, (System.nanoTime() - t0) / 1e9);
        if (!answer.equals("ok")) {
            throw new AssertionError("nvmet guest: '" + text + "' -> " + answer + "; log " + log + ":\n"
                    + logTail(40));
        }
    }

    /** Polls {@code done} every 200 ms; fails at once if the guest exits, or when {@code bound} has passed. */
    private void waitUntil(String what, Duration bound, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        while (!done.getAsBoolean()) {
            if (!guest.isAlive()) {
                throw new AssertionError("waiting for " + what + ": the guest exited with status "
                        + guest.exitValue() + "; log " + log + ":\n" + logTail(60));
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("no " + what + " within " + bound.toSeconds() + " s; log " + log + ":\n"
                        + logTail(60));
            }
            Thread.sleep(200);
        }
    }

    /**
     * Asks the guest to stop (touches {@code done}) and waits for guest-run.sh to exit; after a bound,
     * SIGTERM (guest-run.sh then stops QEMU and removes its run folder), then SIGKILL to it and its
     * descendants. Removes the shared folder.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        step("stopping the guest");
        List<ProcessHandle> tree = guest.descendants().toList(); // once guest-run.sh exits they cannot be found
        try {
            Files.createFile(sync.resolve("done"));
        } catch (FileAlreadyExistsException e) {
            // already asked
        } catch (IOException e) {
            step("cannot touch %s: %s", sync.resolve("done"), e);
        }
        try {
            if (!guest.waitFor(STOP_BOUND.toSeconds(), TimeUnit.SECONDS)) {
                step("guest-run.sh still running after %d s: SIGTERM", STOP_BOUND.toSeconds());
                guest.destroy();
                guest.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        tree.forEach(ProcessHandle::destroyForcibly);
        guest.destroyForcibly();
        step("guest-run.sh exit status %s", guest.isAlive() ? "(still running)" : guest.exitValue());
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down; the hook does no harm
        }
        try (Stream<Path> files = Files.walk(sync)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            step("cannot remove %s: %s", sync, e);
        }
    }

    /**
     * QEMU's user-mode network (slirp) accepts on the host port even while nothing listens in the guest, then
     * closes the connection at once. nvmet keeps a new connection open, waiting for the ICReq: so a read that
     * times out means the target is there.
     */
    private static boolean answers(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            s.setSoTimeout(500);
            try {
                s.getInputStream().read();
            } catch (SocketTimeoutException e) {
                return true;
            }
            return false; // closed: nothing listens in the guest yet
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void step(String format, Object... args) {
        step(log, format, args);
    }

    /** One line in the log, appended as the guest's output is (both O_APPEND: lines do not overwrite). */
    private static void step(Path log, String format, Object... args) {
        String line = "[LinuxNvmetGuest " + LocalTime.now().format(CLOCK) + "] " + format.formatted(args);
        System.out.println(line);
        try {
            Files.writeString(log, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.out.println("(cannot write " + log + ": " + e + ")");
        }
    }
}
