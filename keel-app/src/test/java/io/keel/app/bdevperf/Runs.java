package io.keel.app.bdevperf;

import io.keel.core.app.KeelApp;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import picocli.CommandLine;

/** Test helpers: configs, in-process runs through the API and through the command line. */
final class Runs {
    private Runs() {
    }

    /** What a run printed and returned. */
    record Outcome(int exitCode, String out, String err, BdevperfResult result) {
    }

    /** An SPDK JSON config whose bdev subsystem runs {@code entries} (each a {"method":...,"params":...} object). */
    static Path config(Path dir, String... entries) {
        String json = "{\"subsystems\":[{\"subsystem\":\"bdev\",\"config\":[" + String.join(",", entries) + "]}]}";
        try {
            Path p = Files.createTempFile(dir, "bdevs", ".json");
            Files.writeString(p, json);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String malloc(String name, long numBlocks, int blockSize) {
        return "{\"method\":\"bdev_malloc_create\",\"params\":{\"name\":\"" + name + "\",\"num_blocks\":" + numBlocks
                + ",\"block_size\":" + blockSize + "}}";
    }

    static String nul(String name, long numBlocks, int blockSize) {
        return "{\"method\":\"bdev_null_create\",\"params\":{\"name\":\"" + name + "\",\"num_blocks\":" + numBlocks
                + ",\"block_size\":" + blockSize + "}}";
    }

    /** Runs through the API; {@code beforeJobs} may add bdevs to the running application. */
    static Outcome run(BdevperfOptions o, Consumer<KeelApp> beforeJobs) throws InterruptedException {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Bdevperf b = new Bdevperf(o, new PrintWriter(out, true), new PrintWriter(err, true)).beforeJobs(beforeJobs);
        BdevperfResult r = b.run();
        return new Outcome(r.exitCode(), out.toString(), err.toString(), r);
    }

    static Outcome run(BdevperfOptions o) throws InterruptedException {
        return run(o, app -> { });
    }

    /** Runs {@code keel bdevperf ARGS} in process, as the launcher would. */
    static Outcome cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new BdevperfCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Outcome(code, out.toString(), err.toString(), null);
    }
}
