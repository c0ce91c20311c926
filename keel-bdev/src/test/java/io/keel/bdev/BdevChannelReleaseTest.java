package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.core.rpc.Errno;
import io.keel.core.testing.LogCapture;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.IoDevice;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bdev channel whose last reference is put while its I/O is not done is never freed under it: what waits
 * parked after NOMEM is aborted at once, what the module still has is waited for (the module channel stays),
 * and only then do the channel and the bdev's removal finish. A removal that something blocks fails at its
 * bound, saying what blocks it.
 */
class BdevChannelReleaseTest {
    @TempDir
    Path dir;

    /** A module that holds every I/O until {@code release} is set, then completes them from its poller. */
    static final class HoldingBdev extends Bdev {
        static final BdevModule MODULE = () -> "holding";
        final AtomicBoolean release = new AtomicBoolean();
        final AtomicBoolean full = new AtomicBoolean();
        private final IoDevice<Held> device = IoDevice.register("holding_module", Held::new, Held::close);

        HoldingBdev() {
            super("Hold0", null, "holding disk", 512, 1024, EnumSet.of(IoType.READ, IoType.WRITE));
        }

        final class Held {
            final ArrayDeque<BdevIo> ios = new ArrayDeque<>();
            final Poller poller;

            Held(KeelThread t) {
                poller = t.registerPoller("holding_poller", this::poll);
            }

            int poll() {
                if (!release.get() || ios.isEmpty()) {
                    return PollerFn.IDLE;
                }
                while (!ios.isEmpty()) {
                    ios.poll().complete(BdevIoStatus.SUCCESS);
                }
                return PollerFn.BUSY;
            }

            void close() {
                poller.unregister();
            }
        }

        @Override
        public BdevModule module() {
            return MODULE;
        }

        @Override
        protected IoDevice<?> moduleDevice() {
            return device;
        }

        @Override
        protected void submit(BdevIo io) {
            if (full.get()) {
                io.complete(BdevIoStatus.NOMEM);
                return;
            }
            Held h = io.moduleChannel();
            h.ios.add(io);
        }
    }

    @Test
    void aChannelPutWithIoInTheModuleWaitsForItAndRefusesNewIo() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir); Arena arena = Arena.ofShared()) {
            HoldingBdev b = new HoldingBdev();
            t.layer().register(b);
            KeelThread w = t.thread("w", 1);
            MemorySegment buf = arena.allocate(512, 4096);
            List<String> events = new CopyOnWriteArrayList<>();
            int afterPut = BdevTestApp.on(w, () -> {
                BdevDesc d = t.layer().open("Hold0", true, (e, x) -> { });
                IoChannel<BdevChannel> ch = d.getIoChannel();
                BdevChannel c = ch.context();
                for (int i = 0; i < 3; i++) {
                    assertThat(d.write(c, buf, i, 1, (io, ok, arg) -> {
                        events.add("completed " + ok);
                        io.free();
                    }, null)).isZero();
                }
                ch.put();
                d.close();
                return 0;
            });
            assertThat(afterPut).isZero();
            Thread.sleep(100);
            assertThat(b.channelDevice().channelCount()).as("still waiting for its 3 I/O").isEqualTo(1);
            assertThat(events).isEmpty();

            b.release.set(true);

            await().atMost(Duration.ofSeconds(10)).until(() -> b.channelDevice().channelCount() == 0);
            assertThat(events).containsExactly("completed true", "completed true", "completed true");
            assertThat(b.device.channelCount()).as("the module channel went after the I/O").isZero();
        }
    }

    @Test
    void aChannelReleasingRefusesNewSubmissions() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir); Arena arena = Arena.ofShared()) {
            HoldingBdev b = new HoldingBdev();
            t.layer().register(b);
            KeelThread w = t.thread("w", 1);
            MemorySegment buf = arena.allocate(512, 4096);
            BdevDesc d = BdevTestApp.on(w, () -> t.layer().open("Hold0", true, (e, x) -> { }));
            BdevChannel c = BdevTestApp.on(w, () -> {
                IoChannel<BdevChannel> ch = d.getIoChannel();
                assertThat(d.write(ch.context(), buf, 0, 1, (io, ok, arg) -> io.free(), null)).isZero();
                ch.put();
                return ch.context();
            });
            int rc = BdevTestApp.on(w, () -> d.write(c, buf, 1, 1, (io, ok, arg) -> io.free(), null));

            assertThat(rc).isEqualTo(-Errno.EBADF);
            b.release.set(true);
            BdevTestApp.on(w, () -> {
                d.close();
                return null;
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> b.channelDevice().channelCount() == 0);
        }
    }

    @Test
    void ioParkedAfterNomemIsAbortedWhenItsChannelIsPutAndThePoolGetsItBack() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir); Arena arena = Arena.ofShared()) {
            HoldingBdev b = new HoldingBdev();
            b.full.set(true);
            t.layer().register(b);
            int poolBefore = t.layer().poolAvailable();
            KeelThread w = t.thread("w", 1);
            MemorySegment buf = arena.allocate(512, 4096);
            CompletableFuture<String> done = new CompletableFuture<>();
            int parked = BdevTestApp.on(w, () -> {
                BdevDesc d = t.layer().open("Hold0", true, (e, x) -> { });
                IoChannel<BdevChannel> ch = d.getIoChannel();
                assertThat(d.write(ch.context(), buf, 0, 1, (io, ok, arg) -> {
                    done.complete(io.status() + " " + ok);
                    io.free();
                }, null)).isZero();
                int n = ch.context().nomemQueued();
                ch.put();
                d.close();
                return n;
            });

            assertThat(parked).isEqualTo(1);
            assertThat(done.get(10, TimeUnit.SECONDS)).isEqualTo("ABORTED false");
            await().atMost(Duration.ofSeconds(10)).until(() -> b.channelDevice().channelCount() == 0);
            BdevTestApp.on(w, () -> {
                w.exit(() -> { }); // its bdev_io cache goes back to the pool
                return null;
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> t.layer().poolAvailable() == poolBefore);
        }
    }

    @Test
    void aRemovalBlockedByADescriptorThatNeverClosesFailsAtItsBoundNamingTheThread() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir); LogCapture log = LogCapture.errorsOf(BdevLayer.class)) {
            t.layer().removalTimeoutNanos(300_000_000L);
            t.rpc("bdev_malloc_create", BdevTestApp.params("name", "M0", "block_size", 512, "num_blocks", 64));
            KeelThread deaf = t.thread("deaf", 1);
            BdevTestApp.on(deaf, () -> t.layer().open("M0", true, (event, bdev) -> { })); // never closes

            assertThat(BdevTestApp.on(t.thread("caller", 0), () -> {
                CompletableFuture<Integer> rc = new CompletableFuture<>();
                t.layer().unregister(t.layer().bdevs().getFirst(), rc::complete);
                return rc;
            }).get(10, TimeUnit.SECONDS)).isEqualTo(-Errno.ETIMEDOUT);
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("M0").contains("deaf"));
            BdevTestApp.RpcError e = org.junit.jupiter.api.Assertions.assertThrows(BdevTestApp.RpcError.class,
                    () -> t.rpc("bdev_malloc_delete", BdevTestApp.params("name", "M0")));
            assertThat(e.code).isEqualTo(-Errno.ENODEV); // already left the registry: a second delete finds nothing
        }
    }
}
