package io.keel.rdma;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.testing.GuestHarness;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * keel-rdma on a real RDMA device: a QEMU guest (../shared/guest) loads Soft-RoCE (rdma_rxe on eth0) and runs
 * {@code RdmaLoopbackCheck} through tests/e2e/rdma-loopback-guest.sh with this build's classes (the guest's root is the
 * host's). Skipped, saying why, where the guest harness cannot run. The guest's output stays in
 * keel-rdma/target/rdma-loopback-guest/.
 */
class RdmaLoopbackGuestIT {
    private static final String MARKER = "RDMA-LOOPBACK-OK";
    private static final int GUEST_TIMEOUT_S = 360;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void connectsSendsWritesReadsAndDisconnectsOnSoftRoce() throws Exception {
        Path out = GuestHarness.ROOT.resolve("keel-rdma/target/rdma-loopback-guest");
        Files.createDirectories(out);
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        String cannot = GuestHarness.prepare(out.resolve("guest-setup-" + stamp + ".log"));
        Assumptions.assumeTrue(cannot == null, cannot + "; the Soft-RoCE test cannot run here");
        // keel-core logs through slf4j (NativeArena): its jars come from this test's own class path
        String slf4j = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(p -> p.contains("slf4j")).collect(Collectors.joining(":"));
        String classpath = GuestHarness.ROOT.resolve("keel-rdma/target/classes") + ":"
                + GuestHarness.ROOT.resolve("keel-core/target/classes") + (slf4j.isEmpty() ? "" : ":" + slf4j);
        Path guestLog = out.resolve("guest-" + stamp + ".log");
        Process guest = new ProcessBuilder(GuestHarness.RUN.toString(), "-c", "2", "-t",
                Integer.toString(GUEST_TIMEOUT_S), GuestHarness.ROOT.resolve("tests/e2e/rdma-loopback-guest.sh")
                        .toString(), classpath)
                .directory(GuestHarness.ROOT.toFile()).redirectErrorStream(true).redirectOutput(guestLog.toFile())
                .start();
        long t0 = System.nanoTime();
        try {
            boolean done = guest.waitFor(GUEST_TIMEOUT_S + 60, TimeUnit.SECONDS);
            String output = Files.readString(guestLog);
            System.out.printf("guest run: %.1f s%n%s%n", (System.nanoTime() - t0) / 1e9, output);
            assertThat(done).as("the guest finished; output (%s):\n%s", guestLog, output).isTrue();
            assertThat(guest.exitValue()).as("guest exit status; output (%s):\n%s", guestLog, output).isZero();
            assertThat(output.lines()).as("the check's marker line; output (%s):\n%s", guestLog, output)
                    .anyMatch(l -> l.startsWith(MARKER));
        } finally {
            GuestHarness.kill(guest);
        }
    }
}
