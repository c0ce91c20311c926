package io.keel.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.testing.GuestHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs one tests/e2e GUEST script in a QEMU guest (../shared/guest, two CPUs, 3 GiB, the repository root as its cwd)
 * and checks that it ended with status 0 and printed its marker line. The guest's output is kept in
 * keel-app/target/OUT_DIR/guest-STAMP.log and printed. Skips the test, saying why, where the harness cannot run.
 */
final class GuestScriptRun {
    private GuestScriptRun() {}

    static void runExpecting(String outDir, String script, String marker, int timeoutS, String... args)
            throws Exception {
        Path out = KeelProcess.ROOT.resolve("keel-app/target").resolve(outDir);
        Files.createDirectories(out);
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        String cannot = GuestHarness.prepare(out.resolve("guest-setup-" + stamp + ".log"));
        Assumptions.assumeTrue(cannot == null, cannot + "; " + script + " cannot run here");
        List<String> command = new ArrayList<>(List.of(GuestHarness.RUN.toString(), "-c", "2", "-m", "3072", "-t",
                Integer.toString(timeoutS), KeelProcess.ROOT.resolve(script).toString()));
        command.addAll(List.of(args));
        Path guestLog = out.resolve("guest-" + stamp + ".log");
        Process guest = new ProcessBuilder(command).directory(KeelProcess.ROOT.toFile()).redirectErrorStream(true)
                .redirectOutput(guestLog.toFile()).start();
        long t0 = System.nanoTime();
        try {
            boolean done = guest.waitFor(timeoutS + 60, TimeUnit.SECONDS);
            String output = Files.readString(guestLog);
            System.out.printf("guest run: %.1f s%n%s%n", (System.nanoTime() - t0) / 1e9, output);
            assertThat(done).as("the guest finished; output (%s):\n%s", guestLog, output).isTrue();
            assertThat(guest.exitValue()).as("guest exit status; output (%s):\n%s", guestLog, output).isZero();
            assertThat(output.lines()).as("the script's marker line; output (%s):\n%s", guestLog, output)
                    .anyMatch(l -> l.startsWith(marker));
        } finally {
            GuestHarness.kill(guest);
        }
    }
}
