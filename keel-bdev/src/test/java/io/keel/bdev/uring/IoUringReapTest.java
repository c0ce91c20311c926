package io.keel.bdev.uring;

import static io.keel.bdev.uring.UringTestSupport.openRing;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.bdev.uring.UringTestSupport.Recorder;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * Reaping is a poll: it takes at most what it is asked for, leaves the rest for the next poll, never blocks, and
 * a completion handler may start the next I/O from inside the reap.
 */
class IoUringReapTest {
    @Test
    void reapTakesAtMostMaxAndLeavesTheRestForTheNextPoll() {
        try (IoUring ring = openRing(16)) {
            for (int i = 0; i < 16; i++) {
                assertThat(ring.prepareNop(100 + i)).isTrue();
            }
            assertThat(ring.submitAndWait(16)).isEqualTo(16);
            assertThat(ring.inFlight()).isEqualTo(16);
            assertThat(ring.ready()).isEqualTo(16);

            Recorder r = new Recorder();
            assertThat(ring.reap(r, 5)).isEqualTo(5);
            assertThat(ring.inFlight()).isEqualTo(11);
            assertThat(ring.ready()).isEqualTo(11);
            assertThat(ring.reap(r, 0)).isZero();
            assertThat(ring.reap(r, 100)).isEqualTo(11);
            assertThat(ring.inFlight()).isZero();
            assertThat(ring.ready()).isZero();
            assertThat(r.order()).containsExactlyElementsOf(LongStream.range(100, 116).boxed().toList());
            assertThat(r.results.values()).containsOnly(0);
        }
    }

    @Test
    void reapWithNothingReadyReturnsAtOnce() {
        try (IoUring ring = openRing(4)) {
            Recorder r = new Recorder();
            assertThat(ring.reap(r, 8)).isZero();
            assertThat(ring.submit()).isZero(); // nothing prepared: no system call needed
            assertThat(ring.submitAndWait(1)).isZero(); // nothing outstanding: does not wait forever
        }
    }

    @Test
    void aHandlerMayPrepareAndSubmitTheNextIo() {
        try (IoUring ring = openRing(4)) {
            List<Long> seen = new ArrayList<>();
            CompletionHandler chain = (userData, res) -> {
                seen.add(userData);
                if (userData < 10) {
                    assertThat(ring.prepareNop(userData + 1)).isTrue();
                    ring.submit();
                }
            };
            ring.prepareNop(0);
            ring.submit();
            while (seen.size() < 11) {
                ring.submitAndWait(1);
                ring.reap(chain, 1);
            }
            assertThat(seen).containsExactlyElementsOf(LongStream.rangeClosed(0, 10).boxed().toList());
            assertThat(ring.inFlight()).isZero();
        }
    }

    @Test
    void aThrowingHandlerConsumesOnlyWhatItWasGiven() {
        try (IoUring ring = openRing(4)) {
            for (int i = 0; i < 3; i++) {
                ring.prepareNop(i);
            }
            ring.submitAndWait(3);
            assertThatThrownBy(() -> ring.reap((userData, res) -> {
                if (userData == 1) {
                    throw new IllegalStateException("handler bug");
                }
            }, 3)).hasMessage("handler bug");
            // completions 0 and 1 were delivered; 2 is still there, exactly once
            Recorder r = new Recorder();
            assertThat(ring.reap(r, 10)).isEqualTo(1);
            assertThat(r.order()).containsExactly(2L);
            assertThat(ring.inFlight()).isZero();
        }
    }
}
