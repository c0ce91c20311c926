package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The ring's queue for its owner's messages to itself: they skip the shared ring (no compare-and-set) yet run in the
 * one order a single queue would give — each where it would have been among the ring's messages, however many wait —
 * count in size and emptiness, hold a close off, and are refused once the ring is closed.
 */
class MessageRingOwnMessagesTest {
    private final SimulationRuntime runtime = SimulationRuntime.create(1, CpuMask.of(0));
    private final KeelThread owner = runtime.createThread("owner");
    private final KeelThread other = runtime.createThread("other");
    private final List<String> ran = new ArrayList<>();
    private final MessageFn<String> record = ran::add;

    private MessageRing ring(int capacity) {
        MessageRing ring = new MessageRing(capacity);
        ring.bind(owner);
        return ring;
    }

    @Test
    void theOwnersMessagesRunWhereTheyWouldHaveBeenInTheRing() {
        MessageRing ring = ring(8);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ring.offer(other, record, "other" + i);
            expected.add("other" + i);
            for (int j = 0; j < 70; j++) { // past the own queue's first size
                ring.offer(owner, record, "own" + i + "." + j);
                expected.add("own" + i + "." + j);
            }
        }
        ring.offer(null, record, "outside");
        expected.add("outside");
        assertThat(ring.overflowTotal()).as("the owner's messages never touch the ring").isZero();
        assertThat(ring.size()).isEqualTo(214);

        assertThat(ring.drain(owner, 100)).isEqualTo(100);
        assertThat(ring.drain(owner, 200)).isEqualTo(114);

        assertThat(ran).containsExactlyElementsOf(expected);
        assertThat(ring.isEmpty()).isTrue();
    }

    @Test
    void aMessageSentWhileAnotherRunsComesBeforeWhatOtherThreadsSendLater() {
        MessageRing ring = ring(4);
        MessageFn<String> sendsItself = s -> {
            ran.add(s);
            ring.offer(owner, record, s + " (follow-up)");
            ring.offer(other, record, "sent after " + s); // another thread that saw what the first one did
        };
        ring.offer(other, sendsItself, "first");

        assertThat(ring.drain(owner, 10)).isEqualTo(3);
        assertThat(ran).containsExactly("first", "first (follow-up)", "sent after first");
    }

    @Test
    void anOwnMessageThatKeepsSendingItselfLeavesTheRingsSendersTheirTurn() {
        MessageRing ring = ring(4);
        MessageFn<String> retry = new MessageFn<>() {
            @Override
            public void run(String s) {
                ran.add(s);
                ring.offer(owner, this, s); // waits for something by trying again
            }
        };
        ring.offer(owner, retry, "retry");
        ring.offer(other, record, "other");

        assertThat(ring.drain(owner, 64)).isEqualTo(64);
        assertThat(ran.subList(0, 2)).containsExactly("retry", "other");
    }

    @Test
    void waitingOwnMessagesHoldACloseOffAndAClosedRingRefusesThem() {
        MessageRing ring = ring(4);
        assertThat(ring.offer(owner, record, "own")).isTrue();
        assertThat(ring.isEmpty()).isFalse();

        assertThat(ring.close()).isFalse();
        assertThat(ring.drain(owner, 10)).isEqualTo(1);
        assertThat(ring.close()).isTrue();

        assertThat(ring.offer(owner, record, "late")).isFalse();
        assertThat(ring.isEmpty()).isTrue();
        assertThat(ran).containsExactly("own");
    }

    @Test
    void aForcedCloseCountsTheOwnMessagesThatWillNotRun() {
        MessageRing ring = ring(4);
        ring.offer(owner, record, "own");
        ring.offer(other, record, "other");

        assertThat(ring.forceClose()).isEqualTo(2);
        assertThat(ring.offer(owner, record, "late")).isFalse();
    }
}
