package io.keel.bdev.delay;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.IoType;
import io.keel.bdev.passthru.VbdevHarness;
import io.keel.bdev.passthru.VbdevHarness.Handle;
import io.keel.bdev.passthru.VbdevHarness.IoResult;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An LBA range lock on real reactors waits for a write in flight: the delay bdev keeps a write to the range in flight
 * for its latency, and the lock, asked for meanwhile from another thread, is granted only after that write has
 * completed. Reads of the range go on while it waits; a write to the range asked for meanwhile is held back until
 * the unlock.
 */
class DelayBdevRangeLockTest {
    private static final int BLOCK = 512;
    private static final long WRITE_LATENCY_US = 300_000;
    private static final long MS = 1_000_000;

    @TempDir
    Path dir;
    VbdevHarness h;
    KeelThread lockerThread;

    @BeforeEach
    void start() {
        h = VbdevHarness.start(dir);
        h.malloc("Malloc0", 1024, BLOCK);
        h.result("bdev_delay_create", Map.of("name", "Delay0", "base_bdev_name", "Malloc0", "avg_read_latency", 0,
                "p99_read_latency", 0, "avg_write_latency", WRITE_LATENCY_US, "p99_write_latency", WRITE_LATENCY_US));
        lockerThread = h.app.runtime().createThread("rebuild", CpuMask.of(0));
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    private <T> T onLocker(Supplier<T> fn) {
        CompletableFuture<T> f = new CompletableFuture<>();
        lockerThread.send(() -> f.complete(fn.get()));
        return f.orTimeout(10, TimeUnit.SECONDS).join();
    }

    @Test
    void theLockIsGrantedOnlyOnceTheWriteInFlightHasCompleted() throws Exception {
        Handle io = h.open("Delay0");
        long writeSubmitted = System.nanoTime();
        CompletableFuture<IoResult> inFlight = io.submit(IoType.WRITE, 10, 1, h.pattern(BLOCK, 1));

        BdevDesc desc = onLocker(() -> h.layer().open("Delay0", true, (e, b) -> { }));
        IoChannel<BdevChannel> ch = onLocker(desc::getIoChannel);
        CompletableFuture<Long> grantedAt = new CompletableFuture<>();
        int rc = onLocker(() -> desc.lockLbaRange(ch.context(), 0, 64, status -> {
            if (status == 0) {
                grantedAt.complete(System.nanoTime());
            } else {
                grantedAt.completeExceptionally(new AssertionError("lock failed: " + status));
            }
        }));
        assertThat(rc).isZero();

        assertThat(io.read(10, h.buffer(BLOCK)).ok()).as("a read of the range while the lock waits").isTrue();
        assertThat(grantedAt).as("granted with the write in flight").isNotDone();
        CompletableFuture<IoResult> heldBack = io.submit(IoType.WRITE, 20, 1, h.pattern(BLOCK, 2));

        long granted = grantedAt.get(10, TimeUnit.SECONDS);
        assertThat(granted - writeSubmitted).as("grant after the write's latency").isGreaterThanOrEqualTo(
                WRITE_LATENCY_US * 1000 - MS); // the write was submitted just after writeSubmitted was read
        assertThat(VbdevHarness.done(inFlight).ok()).isTrue();
        assertThat(h.onWorker(() -> io.channel().lockHeldBack())).isEqualTo(1);

        Thread.sleep(WRITE_LATENCY_US / 1000 + 100); // long enough for it to have completed, had it been submitted
        assertThat(heldBack).as("a write to the range while the lock is held").isNotDone();
        CompletableFuture<Integer> unlocked = new CompletableFuture<>();
        assertThat(onLocker(() -> desc.unlockLbaRange(ch.context(), 0, 64, unlocked::complete))).isZero();
        assertThat(unlocked.get(10, TimeUnit.SECONDS)).isZero();
        assertThat(VbdevHarness.done(heldBack).ok()).isTrue();

        onLocker(() -> {
            ch.put();
            desc.close();
            return null;
        });
        io.close();
    }
}
