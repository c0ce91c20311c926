package io.keel.vhost.initiator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.IoType;
import io.keel.bdev.passthru.AllocationProbe;
import io.keel.bdev.passthru.VbdevHarness;
import io.keel.bdev.passthru.VbdevHarness.Handle;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** I/O through the virtio-user initiator to Keel's vhost-blk controller over Malloc0: every type lands. */
class VirtioUserIoTest {
    @TempDir
    Path dir;
    VirtioUserFixture f;
    Handle virtio;
    Handle malloc;

    @BeforeEach
    void start() {
        f = new VirtioUserFixture(dir);
        f.attach("VirtioBlk0", 2, 64);
        virtio = f.h.open("VirtioBlk0");
        malloc = f.h.open("Malloc0", false);
    }

    @AfterEach
    void stop() throws Exception {
        virtio.close();
        malloc.close();
        f.detach("VirtioBlk0");
        f.close();
    }

    private MemorySegment readMalloc(long block, long blocks) {
        MemorySegment b = f.h.buffer(blocks * 512);
        assertThat(malloc.read(block, b).ok()).isTrue();
        return b;
    }

    @Test
    void writesLandOnTheTargetsBdevAndReadBack() {
        // one block, 4 KiB, and 300 KiB: more than one request carries (128 KiB), so three requests in turn
        long[][] cases = {{7, 1}, {64, 8}, {1000, 600}};
        for (long[] c : cases) {
            MemorySegment data = f.h.pattern(c[1] * 512, (int) c[0]);
            assertThat(virtio.write(c[0], data).ok()).as("write %d+%d", c[0], c[1]).isTrue();
            assertThat(VbdevHarness.differences(readMalloc(c[0], c[1]), data)).as("on Malloc0").isEmpty();
            MemorySegment back = f.h.buffer(c[1] * 512);
            assertThat(virtio.read(c[0], back).ok()).isTrue();
            assertThat(VbdevHarness.differences(back, data)).as("read back %d+%d", c[0], c[1]).isEmpty();
        }
    }

    /** Scatter-gather both ways, cut differently, with a request boundary (128 KiB) inside a segment. */
    @Test
    void scatteredBuffersGoWholeAcrossRequests() throws Exception {
        MemorySegment data = f.h.pattern(300 * 512, 9);
        MemorySegment[] out = {data.asSlice(0, 3 * 512), data.asSlice(3 * 512, 250 * 512),
            data.asSlice(253 * 512, 47 * 512)};
        MemorySegment in = f.h.buffer(300 * 512);
        MemorySegment[] back = {in.asSlice(0, 100 * 512), in.asSlice(100 * 512, 200 * 512)};
        assertThat(vectored(true, out, 2000, 300)).isEqualTo(BdevIoStatus.SUCCESS);
        assertThat(vectored(false, back, 2000, 300)).isEqualTo(BdevIoStatus.SUCCESS);
        assertThat(VbdevHarness.differences(in, data)).isEmpty();
        assertThat(VbdevHarness.differences(readMalloc(2000, 300), data)).isEmpty();
    }

    private BdevIoStatus vectored(boolean write, MemorySegment[] iovs, long block, long blocks) throws Exception {
        CompletableFuture<BdevIoStatus> done = new CompletableFuture<>();
        f.h.worker.send(() -> {
            io.keel.bdev.BdevIoCallback cb = (io, ok, arg) -> {
                done.complete(io.status());
                io.free();
            };
            int rc = write ? virtio.desc.writev(virtio.channel(), iovs, iovs.length, block, blocks, cb, null)
                    : virtio.desc.readv(virtio.channel(), iovs, iovs.length, block, blocks, cb, null);
            if (rc != 0) {
                done.completeExceptionally(new AssertionError("refused: " + rc));
            }
        });
        return done.get(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Test
    void flushUnmapAndWriteZeroesLand() {
        MemorySegment data = f.h.pattern(64 * 512, 3);
        assertThat(virtio.write(100, data).ok()).isTrue();
        assertThat(virtio.run(IoType.FLUSH, 0, VirtioUserFixture.BLOCKS, null).ok()).isTrue();
        assertThat(virtio.run(IoType.WRITE_ZEROES, 100, 16, null).ok()).isTrue();
        assertThat(virtio.run(IoType.UNMAP, 132, 16, null).ok()).isTrue();
        MemorySegment after = readMalloc(100, 64);
        MemorySegment expected = f.h.copy(data);
        expected.asSlice(0, 16 * 512).fill((byte) 0);
        expected.asSlice(32 * 512, 16 * 512).fill((byte) 0);
        assertThat(VbdevHarness.differences(after, expected)).isEmpty();
    }

    @Test
    void requestsPastTheEndAreRefusedBeforeTheDevice() {
        assertThat(virtio.run(IoType.READ, VirtioUserFixture.BLOCKS - 1, 2, f.h.buffer(1024)).rc()).isNegative();
    }

    @Test
    void twoThreadsTakeTwoQueues() throws Exception {
        VirtioUserController c = f.h.onWorker(() -> module().controller("VirtioBlk0"));
        MemorySegment a = f.h.pattern(4096, 1);
        assertThat(virtio.write(900, a).ok()).isTrue(); // a channel takes its queue at its first I/O
        assertThat(c.queuesInUse()).isEqualTo(1);
        KeelThread other = f.h.app.runtime().createThread("virtio_test_io2", CpuMask.of(0));
        try {
            var desc = on(other, () -> f.h.layer().open("VirtioBlk0", true, (e, b) -> { }));
            var ch = on(other, desc::getIoChannel);
            MemorySegment b = f.h.pattern(4096, 2);
            CompletableFuture<BdevIoStatus> second = new CompletableFuture<>();
            other.send(() -> desc.write(ch.context(), b, 800, 8, (io, ok, arg) -> {
                second.complete(io.status());
                io.free();
            }, null));
            assertThat(second.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(BdevIoStatus.SUCCESS);
            assertThat(c.queuesInUse()).isEqualTo(2);
            assertThat(VbdevHarness.differences(readMalloc(800, 8), b)).isEmpty();
            assertThat(VbdevHarness.differences(readMalloc(900, 8), a)).isEmpty();
            on(other, () -> {
                ch.put();
                desc.close();
                return null;
            });
            await().atMost(VbdevHarness.WAIT).until(() -> c.queuesInUse() == 1); // released one message after the put
        } finally {
            other.send(() -> other.exit(() -> { }));
        }
    }

    /**
     * Both ends run on the two reactors measured (target and initiator, waking each other in interrupt mode), so a
     * round carries some bytes that do not grow with the I/O count (tens of KiB); one object per I/O would be at
     * least 16 bytes times the round, so fewer than 8 bytes per I/O means none.
     */
    @Test
    void noAllocationPerIo() {
        long perIo8 = AllocationProbe.ROUND * 8;
        assertThat(new AllocationProbe(f.h).bytesPerRound("VirtioBlk0", 8, 0, perIo8)).isLessThan(perIo8);
    }

    private VirtioBdevModule module() {
        return (VirtioBdevModule) f.h.layer().modules().stream().filter(m -> m instanceof VirtioBdevModule).findFirst()
                .orElseThrow();
    }

    private static <T> T on(KeelThread t, java.util.concurrent.Callable<T> c) {
        CompletableFuture<T> r = new CompletableFuture<>();
        t.send(() -> {
            try {
                r.complete(c.call());
            } catch (Throwable e) {
                r.completeExceptionally(e);
            }
        });
        return r.orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();
    }
}
