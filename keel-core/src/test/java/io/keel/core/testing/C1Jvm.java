package io.keel.core.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs a test class's {@code main} in a child JVM that compiles with C1 only ({@code -XX:TieredStopAtLevel=1}), as
 * the QEMU guests run Keel: C1 does no escape analysis, so every transient object on a path is a real allocation,
 * where the test JVM's C2 may hide it. The child has this JVM's classpath and Keel's JVM flags. A probe prints
 * {@code ALLOCATED <bytes> <operations>} for what it measured ({@link #allocation}).
 */
public final class C1Jvm {
    private static final Pattern ALLOCATED = Pattern.compile("^ALLOCATED (\\d+) (\\d+)$", Pattern.MULTILINE);

    private C1Jvm() {
    }

    /** What the child printed (stdout and stderr together) and how it exited. */
    public record Result(int exitCode, String output) {
        /** The bytes of the probe's {@code ALLOCATED} line; fails when it printed none. */
        public long allocatedBytes() {
            return match().map(m -> Long.parseLong(m.group(1))).orElseThrow(this::noLine);
        }

        /** The operations of the probe's {@code ALLOCATED} line. */
        public long operations() {
            return match().map(m -> Long.parseLong(m.group(2))).orElseThrow(this::noLine);
        }

        private Optional<Matcher> match() {
            Matcher m = ALLOCATED.matcher(output);
            return m.find() ? Optional.of(m) : Optional.empty();
        }

        private AssertionError noLine() {
            return new AssertionError("the probe printed no ALLOCATED line (exit " + exitCode + "):\n" + output);
        }
    }

    /** Runs {@code main} with {@code args} under C1 only; fails the test if it does not end within {@code bound}. */
    public static Result run(Class<?> main, Duration bound, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-Xmx256m", "--enable-native-access=ALL-UNNAMED",
                "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("c1-" + main.getSimpleName(), ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            p.getOutputStream().close();
            if (!p.waitFor(bound.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(main.getSimpleName() + " under C1 did not end within " + bound.toSeconds()
                        + " s:\n" + Files.readString(out));
            }
            return new Result(p.exitValue(), Files.readString(out));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** For a probe: the line {@link Result#allocatedBytes} reads. */
    public static void report(long bytes, long operations) {
        System.out.println("ALLOCATED " + bytes + " " + operations);
    }
}
