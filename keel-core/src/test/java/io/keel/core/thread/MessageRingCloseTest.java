package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The ring's close, step by step on one OS thread: it closes only when nothing is queued — in the ring or in
 * its overflow — and once closed it refuses every offer, which is what lets an exiting thread promise that an
 * accepted message always runs.
 */
class MessageRingCloseTest {
    private final KeelThread owner = SimulationRuntime.create(1, CpuMask.of(0)).createThread("owner");
    private final List<String> ran = new ArrayList<>();
    private final MessageFn<String> record = ran::add;

    @Test
    void anEmptyRingClosesAndThenRefusesEveryOffer() {
        MessageRing ring = new MessageRing(4);

        assertThat(ring.close()).isTrue();

        assertThat(ring.offer(null, record, "late")).isFalse();
        assertThat(ring.isEmpty()).isTrue();
        assertThat(ring.size()).isZero();
        assertThat(ring.drain(owner, 10)).isZero();
    }

    @Test
    void aRingWithAMessageStaysOpenUntilDrained() {
        MessageRing ring = new MessageRing(4);
        assertThat(ring.offer(null, record, "a")).isTrue();

        assertThat(ring.close()).isFalse();
        assertThat(ring.offer(null, record, "b")).as("still open").isTrue();
        assertThat(ring.drain(owner, 10)).isEqualTo(2);
        assertThat(ring.close()).isTrue();
        assertThat(ring.offer(null, record, "c")).isFalse();
        assertThat(ran).containsExactly("a", "b");
    }

    @Test
    void anEmptyRingWithMessagesInItsOverflowStaysOpen() {
        MessageRing ring = new MessageRing(2);
        for (String m : List.of("r1", "r2", "o1")) {
            assertThat(ring.offer(null, record, m)).isTrue();
        }
        assertThat(ring.overflowTotal()).isEqualTo(1);
        assertThat(ring.drain(owner, 2)).isEqualTo(2); // the ring is empty, the overflow is not

        assertThat(ring.close()).isFalse();
        assertThat(ring.offer(null, record, "o2")).as("reopened, in order behind o1").isTrue();
        assertThat(ring.drain(owner, 10)).isEqualTo(2);
        assertThat(ring.close()).isTrue();
        assertThat(ran).containsExactly("r1", "r2", "o1", "o2");
    }

    @Test
    void anAbortedCloseLeavesTheRingFullyUsable() {
        MessageRing ring = new MessageRing(4);
        for (int round = 0; round < 10; round++) { // wraps the ring several times
            assertThat(ring.offer(null, record, "m" + round)).isTrue();
            assertThat(ring.close()).isFalse();
            assertThat(ring.size()).isEqualTo(1);
            assertThat(ring.drain(owner, 10)).isEqualTo(1);
        }
        assertThat(ran).hasSize(10);
        assertThat(ring.close()).isTrue();
    }
}
