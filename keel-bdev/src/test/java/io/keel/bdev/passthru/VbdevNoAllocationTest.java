package io.keel.bdev.passthru;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three virtual bdevs allocate nothing per I/O (DESIGN section 5): after warm-up, a round of reads and
 * writes at queue depth 32 through passthru, error (no injection armed) and delay (zero latency, so every I/O
 * goes through the hold queue and its pollers) leaves the reactors' allocation counters where they were. Malloc
 * alone is measured first, as the baseline under them.
 *
 * <p>Delay is allowed 4 bytes per I/O, a quarter of the smallest object: because it completes on a later poll, the
 * malloc completion poller under it really pauses between batches, and keel-core's poller compaction
 * ({@code KeelThread.compact}: {@code ArrayList.subList(..).clear()}) allocates a 32-byte SubList each time
 * (measured: about 1 byte per I/O). That is the thread's, not the delay bdev's.
 */
class VbdevNoAllocationTest {
    private static final int BLOCK = 512;

    @TempDir
    Path dir;
    VbdevHarness h;

    @BeforeEach
    void start() {
        h = VbdevHarness.start(dir);
        for (String m : new String[] {"Malloc0", "Malloc1", "Malloc2", "Malloc3"}) {
            h.malloc(m, 1024, BLOCK);
        }
        h.result("bdev_passthru_create", Map.of("name", "PT0", "base_bdev_name", "Malloc0"));
        h.result("bdev_error_create", Map.of("base_name", "Malloc1"));
        h.result("bdev_delay_create", Map.of("name", "Delay0", "base_bdev_name", "Malloc2", "avg_read_latency", 0,
                "p99_read_latency", 0, "avg_write_latency", 0, "p99_write_latency", 0));
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    @Test
    void passthruErrorAndDelayAllocateNothingPerIo() {
        AllocationProbe probe = new AllocationProbe(h);
        for (String name : new String[] {"Malloc3", "PT0", "EE_Malloc1", "Delay0"}) {
            assertThat(probe.bytesPerRound(name, 1, 0)).as("bytes the reactors allocated over %d I/Os through %s",
                    AllocationProbe.ROUND, name).isLessThan(name.equals("Delay0") ? 4 * AllocationProbe.ROUND : 4096);
        }
    }
}
