package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.thread.IoChannel;
import io.keel.core.thread.IoDevice;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario S3 at the bdev layer: a module that runs out of a resource answers NOMEM; the layer re-drives the
 * I/O on later completions and on idle polls, so it completes even when nothing else ever completes.
 */
class NomemRedriveTest {
    @TempDir
    Path dir;

    /** A bdev whose module has no room while {@code full} holds. */
    static final class FullBdev extends Bdev {
        static final BdevModule MODULE = () -> "full";
        final AtomicBoolean full = new AtomicBoolean(true);
        final AtomicInteger bounced = new AtomicInteger();
        private final IoDevice<DeferredCompletions> device =
                IoDevice.register("full_module", DeferredCompletions::new, DeferredCompletions::close);

        FullBdev() {
            super("Full0", null, "full disk", 512, 1024, EnumSet.of(IoType.READ, IoType.WRITE));
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
                bounced.incrementAndGet();
                io.complete(BdevIoStatus.NOMEM);
                return;
            }
            DeferredCompletions done = io.moduleChannel();
            done.add(io, BdevIoStatus.SUCCESS);
        }
    }

    @Test
    void bouncedIoCompletesOnceTheModuleHasRoomWithNoOtherCompletionToWakeIt() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir); Arena arena = Arena.ofShared()) {
            FullBdev b = new FullBdev();
            t.layer().register(b);
            KeelThread w = t.thread("w", 1);
            MemorySegment buf = arena.allocate(512, 4096);
            CompletableFuture<Boolean> done = new CompletableFuture<>();
            int[] queued = new int[1];
            BdevTestApp.on(w, () -> {
                BdevDesc d = t.layer().open("Full0", true, (e, x) -> { });
                IoChannel<BdevChannel> ch = d.getIoChannel();
                int rc = d.write(ch.context(), buf, 0, 1, (io, ok, arg) -> {
                    io.free();
                    ch.put();
                    d.close();
                    done.complete(ok);
                }, null);
                assertThat(rc).isZero();
                queued[0] = ch.context().nomemQueued();
                return null;
            });
            assertThat(queued[0]).isEqualTo(1);
            Thread.sleep(50); // the I/O is parked; the retry poller keeps trying
            assertThat(done).isNotDone();
            assertThat(b.bounced.get()).isGreaterThan(1);
            b.full.set(false); // room appears, without any completion on that thread
            assertThat(done.get(10, TimeUnit.SECONDS)).isTrue();
        }
    }
}
