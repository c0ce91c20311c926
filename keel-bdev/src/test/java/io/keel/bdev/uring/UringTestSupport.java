package io.keel.bdev.uring;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/** Shared helpers for the io_uring tests. */
final class UringTestSupport {
    static final int BLOCK = 4096;

    private UringTestSupport() {
    }

    /** Opens a ring, or skips the test with the kernel's reason when io_uring is unavailable here. */
    static IoUring openRing(int entries) {
        try {
            return IoUring.open(entries);
        } catch (IoUringUnavailableException e) {
            Assumptions.abort(e.getMessage());
            throw new AssertionError(e);
        }
    }

    /**
     * A directory whose file system accepts O_DIRECT: {@code preferred} (a @TempDir, maybe tmpfs), else the
     * module's target/ directory, else /var/tmp. Skips the test with a message when none does.
     */
    static Path directIoDir(Path preferred) throws IOException {
        List<Path> candidates = new ArrayList<>(List.of(preferred, Path.of("target").toAbsolutePath(), Path.of("/var/tmp")));
        List<String> tried = new ArrayList<>();
        for (Path dir : candidates) {
            if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
                tried.add(dir + " (not a writable directory)");
                continue;
            }
            Path probe = Files.createTempFile(dir, "keel-odirect-probe", ".dat");
            try (NativeFile f = NativeFile.open(probe, true, true)) {
                if (f.isDirect()) {
                    return dir;
                }
                tried.add(dir + " (file system refuses O_DIRECT)");
            } finally {
                Files.deleteIfExists(probe);
            }
        }
        Assumptions.abort("no file system here accepts O_DIRECT; tried " + tried);
        throw new AssertionError();
    }

    /** Fills {@code buf} with a pattern unique to (tag, byte position). */
    static void fillPattern(MemorySegment buf, long tag) {
        for (long i = 0; i < buf.byteSize() / 8; i++) {
            buf.setAtIndex(JAVA_LONG, i, (tag << 32) ^ (i * 0x9E3779B97F4A7C15L));
        }
    }

    /** Records completions in arrival order; fails on a duplicate user data. */
    static final class Recorder implements CompletionHandler {
        final Map<Long, Integer> results = new LinkedHashMap<>();

        @Override
        public void complete(long userData, int res) {
            if (results.put(userData, res) != null) {
                throw new AssertionError("completion for " + userData + " delivered twice");
            }
        }

        int count() {
            return results.size();
        }

        int res(long userData) {
            Integer r = results.get(userData);
            if (r == null) {
                throw new AssertionError("no completion for " + userData + "; have " + results);
            }
            return r;
        }

        List<Long> order() {
            return new ArrayList<>(results.keySet());
        }
    }

    /** Submits what is prepared and reaps until {@code recorder} holds {@code total} completions. */
    static void submitAndReapAll(IoUring ring, Recorder recorder, int total) {
        while (recorder.count() < total) {
            int missing = total - recorder.count();
            ring.submitAndWait(missing);
            ring.reap(recorder, Integer.MAX_VALUE);
            if (ring.inFlight() == 0 && ring.queued() == 0 && recorder.count() < total) {
                throw new AssertionError("nothing outstanding but only " + recorder.count() + " of " + total
                        + " completions arrived");
            }
        }
    }
}
