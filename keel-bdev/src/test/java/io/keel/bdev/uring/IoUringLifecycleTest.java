package io.keel.bdev.uring;

import static io.keel.bdev.uring.UringTestSupport.openRing;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import io.keel.bdev.uring.UringTestSupport.Recorder;
import io.keel.core.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Opening, handing over to an owner thread, interrupt-mode wake-ups, closing twice, use after close. */
class IoUringLifecycleTest {
    private static final int EFD_NONBLOCK = 04000;
    private static final int EFD_CLOEXEC = 02000000;

    @Test
    void aRingReportsItsShapeAndClosesIdempotently() {
        IoUring ring = openRing(8);
        assertThat(ring.fd()).isPositive();
        assertThat(ring.features() & IoUring.FEAT_SINGLE_MMAP).isNotZero();
        assertThat(ring.toString()).contains("sq=8", "cq=16");
        ring.close();
        ring.close();
        assertThat(ring.isClosed()).isTrue();
        assertThatIllegalStateException().isThrownBy(() -> ring.prepareNop(1)).withMessageContaining("closed");
        assertThatIllegalStateException().isThrownBy(ring::submit);
        assertThatIllegalStateException().isThrownBy(() -> ring.reap((u, r) -> { }, 1));
    }

    @Test
    void aRingOpenedOnOneThreadIsOwnedByAnother() throws Exception {
        try (IoUring ring = openRing(4)) {
            int reaped = CompletableFuture.supplyAsync(() -> {
                ring.prepareNop(42);
                ring.submitAndWait(1);
                Recorder r = new Recorder();
                ring.reap(r, 4);
                return r.res(42) == 0 ? r.count() : -1;
            }).get(10, TimeUnit.SECONDS);
            assertThat(reaped).isEqualTo(1);
            assertThat(ring.inFlight()).isZero();
        }
    }

    @Test
    void aRegisteredEventFdIsSignalledOnCompletion() throws Throwable {
        try (Arena arena = Arena.ofConfined(); IoUring ring = openRing(4)) {
            MemorySegment cs = Libc.callState(arena);
            int efd = (int) Libc.EVENTFD.invokeExact(cs, 0, EFD_NONBLOCK | EFD_CLOEXEC);
            assertThat(efd).as("eventfd: errno %d", Libc.errno(cs)).isNotNegative();
            try {
                ring.registerEventFd(efd);
                MemorySegment counter = arena.allocate(ValueLayout.JAVA_LONG);
                long before = (long) Libc.READ.invokeExact(cs, efd, counter, 8L);
                assertThat(before).as("nothing completed yet").isEqualTo(-1L);
                assertThat(Libc.errno(cs)).isEqualTo(Errno.EAGAIN);

                ring.prepareNop(1);
                ring.submitAndWait(1);
                long n = (long) Libc.READ.invokeExact(cs, efd, counter, 8L);
                assertThat(n).isEqualTo(8L);
                assertThat(counter.get(ValueLayout.JAVA_LONG, 0)).isGreaterThanOrEqualTo(1L);
                assertThat(ring.reap(new Recorder(), 4)).isEqualTo(1);
                ring.unregisterEventFd();
            } finally {
                Libc.closeQuietly(efd);
            }
        }
    }
}
