package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A caller waiting for a bdev_io whose thread lets go of its channel is called back, not dropped: it resubmits,
 * gets -EBADF from the released channel, and nothing waits forever.
 */
class BdevIoWaiterReleaseTest {
    @TempDir
    Path dir;

    @Test
    void aWaiterOfAThreadThatReleasesItsChannelIsCalledBackAndItsRetryFails() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir,
                Map.of("bdev_set_options", Map.of("bdev_io_pool_size", 1, "bdev_io_cache_size", 1)));
                Arena arena = Arena.ofShared()) {
            t.rpc("bdev_malloc_create", Map.of("name", "M0", "block_size", 512, "num_blocks", 64));
            t.rpc("bdev_delay_create", Map.of("name", "D0", "base_bdev_name", "M0", "avg_read_latency", 500_000,
                    "p99_read_latency", 500_000, "avg_write_latency", 0, "p99_write_latency", 0));
            MemorySegment buf = arena.allocate(512, 512);
            KeelThread holder = t.thread("holder", 0);
            KeelThread waiter = t.thread("waiter", 1);
            CompletableFuture<Integer> held = new CompletableFuture<>();
            BdevTestApp.on(holder, () -> { // takes the pool's only bdev_io for 500 ms
                BdevDesc d = t.layer().open("D0", false, (e, b) -> { });
                IoChannel<BdevChannel> ch = d.getIoChannel();
                return d.read(ch.context(), buf, 0, 1, (io, ok, arg) -> {
                    io.free();
                    ch.put();
                    d.close();
                    held.complete(ok ? 0 : -1);
                }, null);
            });
            CompletableFuture<Integer> retried = new CompletableFuture<>();
            int first = BdevTestApp.on(waiter, () -> {
                BdevDesc d = t.layer().open("M0", false, (e, b) -> { });
                IoChannel<BdevChannel> ch = d.getIoChannel();
                BdevChannel bc = ch.context();
                int rc = d.read(bc, buf, 0, 1, (io, ok, arg) -> io.free(), null);
                bc.queueIoWait(new BdevIoWaiter() {
                    @Override
                    public void ioAvailable() {
                        retried.complete(d.read(bc, buf, 0, 1, (io, ok, arg) -> io.free(), null));
                        d.close();
                    }
                });
                ch.put(); // the thread lets go while its caller waits
                return rc;
            });
            assertThat(first).isEqualTo(-12); // -ENOMEM
            assertThat(retried.get(5, TimeUnit.SECONDS)).isEqualTo(-9); // -EBADF: the channel was released
            assertThat(held.get(5, TimeUnit.SECONDS)).isZero();
        }
    }
}
