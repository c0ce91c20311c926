package io.keel.app;

import io.keel.core.testing.GuestHarness;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs ./keel from the repository root as a separate process, as a user would. */
final class KeelProcess {
    static final Path ROOT = GuestHarness.ROOT;

    /** What a finished command printed and returned. */
    record Result(int exitCode, String out, String err) {
    }

    private KeelProcess() {
    }

    static ProcessBuilder builder(List<String> args, Path log) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ROOT.resolve("keel").toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile());
        pb.environment().put("KEEL_SKIP_BUILD", "1"); // Maven packaged the jars just before this test
        pb.environment().put("JAVA_OPTS", "-Xmx256m");
        if (log != null) {
            pb.redirectErrorStream(true).redirectOutput(log.toFile());
        }
        return pb;
    }

    static Process start(Path log, String... args) throws IOException {
        return builder(List.of(args), log).start();
    }

    static Result run(String... args) throws IOException, InterruptedException {
        Process p = builder(List.of(args), null).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("keel " + String.join(" ", args) + " did not finish");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    static String log(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
