package io.keel.bdev.uring;

import static io.keel.bdev.uring.UringTestSupport.openRing;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import io.keel.bdev.uring.UringTestSupport.Recorder;
import org.junit.jupiter.api.Test;

/**
 * Back-pressure instead of overflow: prepare says no when the submission ring is full, and also when as many
 * I/Os are outstanding as the completion ring holds, so no completion can ever be dropped; room returns as
 * soon as the kernel takes entries or completions are reaped.
 */
class IoUringQueueFullTest {
    @Test
    void prepareBeyondTheSubmissionRingReturnsFalse() {
        try (IoUring ring = openRing(4)) {
            assertThat(ring.sqEntries()).isEqualTo(4);
            assertThat(ring.cqEntries()).isEqualTo(8);
            for (int i = 0; i < 4; i++) {
                assertThat(ring.prepareNop(i)).isTrue();
            }
            assertThat(ring.prepareNop(4)).isFalse();
            assertThat(ring.prepareFsync(0, true, 4)).isFalse();
            assertThat(ring.queued()).isEqualTo(4);

            assertThat(ring.submit()).isEqualTo(4);
            assertThat(ring.queued()).isZero();
            assertThat(ring.prepareNop(4)).as("the kernel took the entries: room again").isTrue();
        }
    }

    @Test
    void outstandingIoIsBoundedByTheCompletionRing() {
        try (IoUring ring = openRing(4)) {
            int id = 0;
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < 4; i++) {
                    assertThat(ring.prepareNop(id++)).isTrue();
                }
                assertThat(ring.submit()).isEqualTo(4);
            }
            assertThat(ring.inFlight()).isEqualTo(8);
            assertThat(ring.queued()).isZero();
            assertThat(ring.prepareNop(id)).as("8 outstanding = completion ring size").isFalse();

            ring.submitAndWait(8);
            Recorder r = new Recorder();
            assertThat(ring.reap(r, 1)).isEqualTo(1);
            assertThat(ring.prepareNop(id)).as("one reaped: room for one").isTrue();
            assertThat(ring.prepareNop(id + 1)).isFalse();
            ring.submitAndWait(8);
            assertThat(ring.reap(r, 100)).isEqualTo(8);
            assertThat(r.count()).isEqualTo(9);
            assertThat(ring.inFlight()).isZero();
        }
    }

    @Test
    void entriesAreRoundedUpToAPowerOfTwoAndBounded() {
        try (IoUring ring = openRing(5)) {
            assertThat(ring.sqEntries()).isEqualTo(8);
            assertThat(ring.cqEntries()).isEqualTo(16);
        }
        assertThatIllegalArgumentException().isThrownBy(() -> IoUring.open(0));
        assertThatIllegalArgumentException().isThrownBy(() -> IoUring.open(IoUring.MAX_ENTRIES + 1));
    }
}
