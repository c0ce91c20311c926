package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.core.rpc.Errno;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads submitted without a buffer borrow one from iobuf (as the NVMe-oF target will). With data pools far
 * smaller than the queue depth, reads wait in iobuf's queue and all complete with the right data (S3).
 */
class BdevPooledReadTest {
    private static final int BLOCK = 4096;
    private static final int BLOCKS_PER_READ = 16; // 64 KiB: a large buffer each
    private static final int REGION = 256;

    @TempDir
    Path dir;

    @Test
    void eightLargeBuffersServeThreeThreadsAtQueueDepthThirtyTwo() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir, Map.of("iobuf_set_options",
                Map.of("small_pool_count", 64, "large_pool_count", 8)));
                Arena arena = Arena.ofShared()) {
            t.rpc("bdev_malloc_create", Map.of("name", "M0", "block_size", BLOCK, "num_blocks", REGION));
            writePattern(t, arena);

            List<CompletableFuture<Reader>> readers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                readers.add(readMany(t, t.thread("r" + i, i % 2), 400, 32));
            }
            List<Reader> finished = new ArrayList<>();
            for (CompletableFuture<Reader> r : readers) {
                Reader res = r.get(60, TimeUnit.SECONDS);
                assertThat(res.reads()).isEqualTo(400);
                assertThat(res.mismatches()).as("data lent buffers carried").isZero();
                assertThat(res.failures()).isZero();
                finished.add(res);
            }
            JsonNode bdevStats = null;
            for (JsonNode m : t.rpc("iobuf_get_stats", null)) {
                if (m.get("module").asText().equals("bdev")) {
                    bdevStats = m;
                }
            }
            assertThat(bdevStats).isNotNull();
            assertThat(bdevStats.get("large_pool").get("retry").asLong()).as("reads waited for buffers").isPositive();
            // iobuf statistics live in the channels: read them before the readers let go
            finished.forEach(Reader::close);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                for (JsonNode pool : t.rpc("keel_iobuf_get_pools", null)) {
                    assertThat(pool.toString()).contains("\"waiting\":0");
                }
            });
        }
    }

    private static void writePattern(BdevTestApp t, Arena arena) throws Exception {
        KeelThread w = t.thread("writer", 0);
        MemorySegment buf = arena.allocate((long) REGION * BLOCK, 4096);
        for (long i = 0; i < buf.byteSize(); i += 8) {
            buf.set(ValueLayout.JAVA_LONG, i, i * 7 + 1);
        }
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        BdevTestApp.on(w, () -> {
            BdevDesc d = t.layer().open("M0", true, (e, b) -> { });
            IoChannel<BdevChannel> ch = d.getIoChannel();
            int rc = d.write(ch.context(), buf, 0, REGION, (io, ok, arg) -> {
                io.free();
                ch.put();
                d.close();
                done.complete(ok);
            }, null);
            assertThat(rc).isZero();
            return null;
        });
        assertThat(done.get(10, TimeUnit.SECONDS)).isTrue();
    }

    /** What one reader did; {@link #close()} lets go of its channel and descriptor on its thread. */
    private record Reader(long reads, long mismatches, long failures, KeelThread thread, Runnable closer) {
        void close() {
            thread.send(closer);
        }
    }

    /** {@code count} pooled reads, {@code qd} at a time, each checked against the pattern. */
    private static CompletableFuture<Reader> readMany(BdevTestApp t, KeelThread th, int count, int qd) {
        CompletableFuture<Reader> result = new CompletableFuture<>();
        th.send(() -> {
            BdevDesc d = t.layer().open("M0", false, (e, b) -> { });
            IoChannel<BdevChannel> ch = d.getIoChannel();
            AtomicLong submitted = new AtomicLong();
            long[] counts = new long[3];
            int[] inFlight = {0};
            Runnable[] pump = new Runnable[1];
            BdevIoCallback cb = (io, ok, arg) -> {
                counts[0]++;
                if (!ok) {
                    counts[2]++;
                } else if (!matches(io)) {
                    counts[1]++;
                }
                io.free();
                inFlight[0]--;
                pump[0].run();
            };
            pump[0] = () -> {
                while (inFlight[0] < qd && submitted.get() < count) {
                    long offset = (submitted.get() * BLOCKS_PER_READ) % REGION;
                    int rc = d.readPooled(ch.context(), offset, BLOCKS_PER_READ, cb, null);
                    if (rc != 0) {
                        throw new IllegalStateException("readPooled: " + rc + (rc == -Errno.ENOMEM ? " (bdev_io)" : ""));
                    }
                    submitted.incrementAndGet();
                    inFlight[0]++;
                }
                if (inFlight[0] == 0 && submitted.get() == count) {
                    result.complete(new Reader(counts[0], counts[1], counts[2], th, () -> {
                        ch.put();
                        d.close();
                    }));
                }
            };
            pump[0].run();
        });
        return result;
    }

    private static boolean matches(BdevIo io) {
        MemorySegment data = io.iov(0);
        long base = io.offsetBlocks() * BLOCK;
        for (long i = 0; i < io.iovLength(0); i += 8) {
            if (data.get(ValueLayout.JAVA_LONG, i) != (base + i) * 7 + 1) {
                return false;
            }
        }
        return io.iovCount() == 1 && io.iovLength(0) == (long) BLOCKS_PER_READ * BLOCK;
    }
}
