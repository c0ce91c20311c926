package io.keel.bdev.uring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.BdevTestAccess;
import io.keel.bdev.BdevTestApp;
import io.keel.core.iobuf.IoBuf;
import io.keel.core.iobuf.IoBufSubsystem;
import io.keel.core.testing.NativeMemory;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.io.File;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Descriptors and channels of a malloc and a uring bdev opened, used once and closed thousands of times on three
 * threads — each round ends with the thread's last channel gone, so its io_uring, bdev_io cache and iobuf channel
 * go too — and afterwards, without a GC, every bdev_io and iobuf buffer is back in its pool, no file descriptor is
 * left open and the native memory is back within a small bound of where it started (rule R10).
 */
class BdevChurnTest {
    private static final int BLOCK = 4096;
    private static final int ROUNDS = 600;
    private static final long NATIVE_SLACK = 512 * 1024;

    @TempDir
    Path tmp;

    @Test
    void descriptorsAndChannelsComingAndGoingLeaveNothingBehind() throws Exception {
        Path f = Files.createTempFile(UringTestSupport.directIoDir(tmp), "keel-churn", ".img");
        try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {0}), 256L * BLOCK - 1);
        }
        try (BdevTestApp t = BdevTestApp.start(tmp); Arena arena = Arena.ofShared()) {
            t.rpc("bdev_malloc_create", BdevTestApp.params("name", "M0", "block_size", BLOCK, "num_blocks", 256));
            t.rpc("bdev_uring_create", Map.of("filename", f.toString(), "name", "U0", "block_size", BLOCK));
            BdevLayer layer = t.layer();
            IoBuf iobuf = IoBufSubsystem.of(t.app);
            List<KeelThread> threads = List.of(t.thread("churn0", 0), t.thread("churn1", 1), t.thread("churn2", 1));
            List<MemorySegment> bufs = new ArrayList<>();
            for (int i = 0; i < threads.size(); i++) {
                bufs.add(arena.allocate(BLOCK, BLOCK));
            }
            churn(layer, threads, bufs, 50);
            settle(layer);
            long nativeBefore = NativeMemory.otherCommitted();
            long fdsBefore = openFds();
            int small = iobuf.smallPoolAvailable();
            int large = iobuf.largePoolAvailable();

            churn(layer, threads, bufs, ROUNDS);
            settle(layer);

            long nativeAfter = NativeMemory.otherCommitted();
            System.out.printf("bdev churn: %d descriptor+channel rounds on %d threads, NMT Other %d KiB before, "
                    + "%d KiB after; fds %d before, %d after%n", ROUNDS * threads.size(), threads.size(),
                    nativeBefore / 1024, nativeAfter / 1024, fdsBefore, openFds());
            assertThat(layer.poolAvailable()).as("bdev_io pool").isEqualTo(layer.poolSize());
            assertThat(iobuf.smallPoolAvailable()).as("iobuf small pool").isEqualTo(small);
            assertThat(iobuf.largePoolAvailable()).as("iobuf large pool").isEqualTo(large);
            assertThat(openFds()).as("open file descriptors (rings)").isLessThanOrEqualTo(fdsBefore + 2);
            if (nativeBefore >= 0) {
                assertThat(nativeAfter - nativeBefore).as("native memory growth").isLessThan(NATIVE_SLACK);
            }
        }
    }

    /** Every thread runs {@code rounds} rounds, alternating malloc and uring, writes and pooled reads. */
    private static void churn(BdevLayer layer, List<KeelThread> threads, List<MemorySegment> bufs, int rounds)
            throws Exception {
        List<CompletableFuture<Void>> runs = new ArrayList<>();
        for (int i = 0; i < threads.size(); i++) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            KeelThread th = threads.get(i);
            MemorySegment buf = bufs.get(i);
            th.send(() -> round(layer, th, buf, rounds, done));
            runs.add(done);
        }
        for (CompletableFuture<Void> r : runs) {
            r.get(60, TimeUnit.SECONDS);
        }
    }

    private static void round(BdevLayer layer, KeelThread th, MemorySegment buf, int left, CompletableFuture<Void> done) {
        if (left == 0) {
            done.complete(null);
            return;
        }
        try {
            BdevDesc d = layer.open(left % 2 == 0 ? "M0" : "U0", true, (e, b) -> { });
            IoChannel<BdevChannel> ch = d.getIoChannel();
            long block = (th.id() * 31 + left) % 256;
            int rc = (left / 2) % 2 == 0
                    ? d.write(ch.context(), buf, block, 1, (io, ok, arg) -> next(layer, th, buf, left, done, ch, d, io, ok), null)
                    : d.readPooled(ch.context(), block, 1, (io, ok, arg) -> next(layer, th, buf, left, done, ch, d, io, ok), null);
            if (rc != 0) {
                throw new AssertionError("submit failed: " + rc);
            }
        } catch (Throwable e) {
            done.completeExceptionally(e);
        }
    }

    private static void next(BdevLayer layer, KeelThread th, MemorySegment buf, int left, CompletableFuture<Void> done,
            IoChannel<BdevChannel> ch, BdevDesc d, io.keel.bdev.BdevIo io, boolean ok) {
        io.free();
        ch.put();
        d.close();
        if (!ok) {
            done.completeExceptionally(new AssertionError("I/O failed"));
            return;
        }
        th.send(() -> round(layer, th, buf, left - 1, done)); // after the channel's deferred release
    }

    /** Waits until every channel of the bdevs, and every thread's ring, has been released on its thread. */
    private static void settle(BdevLayer layer) {
        UringModule uring = (UringModule) layer.modules().stream().filter(m -> m instanceof UringModule)
                .findFirst().orElseThrow();
        await().atMost(Duration.ofSeconds(10)).until(() -> layer.bdevs().stream()
                .allMatch(b -> BdevTestAccess.channelCount(b) == 0) && uring.channels().channelCount() == 0
                && layer.poolAvailable() == layer.poolSize());
    }

    private static long openFds() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }
}
