package io.keel.vhost.virtio;

import static io.keel.vhost.virtio.RingFixture.DATA;
import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.sys.EventFd;
import io.keel.core.sys.Libc;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Notification suppression both ways: the device asks for kicks only while its ring is idle (avail_event with
 * event-idx, VRING_USED_F_NO_NOTIFY without), and calls the driver only when it asked (used_event crossed, or no
 * VRING_AVAIL_F_NO_INTERRUPT), once per batch of completions.
 */
class VirtqueueNotificationTest {
    private static final long EVENT_IDX = VirtioFeatures.bit(VirtioFeatures.RING_EVENT_IDX);
    private RingFixture f;
    private int callFd = -1;

    @AfterEach
    void close() {
        if (f != null) {
            f.close();
        }
        Libc.closeQuietly(callFd);
    }

    private void start(long features) {
        f = new RingFixture(features);
        callFd = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, f.cs);
        f.queue.callFd(callFd);
    }

    /** How many calls the eventfd holds (taken). */
    private long calls() {
        MemorySegment count = f.arena.allocate(8, 8);
        long n = EventFd.read(callFd, count, f.cs);
        return n < 0 ? 0 : n;
    }

    private void submit(int head) {
        f.driver.desc(head, DATA + head * 0x100L, 16, SplitRing.DESC_F_WRITE, 0);
        f.driver.makeAvailable(head);
    }

    @Test
    void aPolledQueueNeverAsksForAKick() {
        f = new RingFixture(0, null, true);
        assertThat(f.driver.usedFlags() & SplitRing.USED_F_NO_NOTIFY).as("at start").isNotZero();
        submit(0);
        assertThat(f.poll()).isEqualTo(1);
        assertThat(f.poll()).as("idle").isZero();
        assertThat(f.driver.usedFlags() & SplitRing.USED_F_NO_NOTIFY).as("idle, still polled").isNotZero();
    }

    @Test
    void aPolledQueueWithEventIdxKeepsAvailEventFarAhead() {
        f = new RingFixture(EVENT_IDX, null, true);
        submit(0);
        submit(1);
        assertThat(f.poll()).isEqualTo(2);
        assertThat(f.poll()).isZero();
        int ahead = (f.driver.availEvent() - f.driver.availIdx()) & 0xffff;
        assertThat(ahead).as("no index the driver reaches soon asks for a kick").isGreaterThan(0x4000);
    }

    /**
     * The driver reads avail_event on every submission: a polled queue rewrites it only when the ring comes within a
     * quarter of the index space of it, not per batch (a line the device keeps writing is a cache miss per request
     * for the driver), and through the index's wrap the driver is never asked to kick.
     */
    @Test
    void aPolledQueueWithEventIdxMovesAvailEventOnlyEveryQuarterOfTheIndexSpace() {
        f = new RingFixture(EVENT_IDX, null, true);
        int moves = 0;
        int last = f.driver.availEvent();
        for (int i = 0; i < 70_000; i++) {
            submit(i & 7);
            assertThat(f.poll()).isEqualTo(1);
            f.received.removeFirst().complete((byte) 0, 0);
            int event = f.driver.availEvent();
            if (event != last) {
                moves++;
                last = event;
            }
            assertThat((event - f.driver.availIdx()) & 0xffff).as("ahead after request " + i)
                    .isGreaterThanOrEqualTo(0x4000);
        }
        assertThat(moves).as("rewrites of avail_event in 70,000 requests").isBetween(3, 5);
    }

    @Test
    void withEventIdxAnIdleQueueAsksForAKickAtTheNextIndexItWillRead() {
        start(EVENT_IDX);
        assertThat(f.driver.availEvent()).as("asked at start").isZero();
        submit(0);
        submit(1);

        assertThat(f.poll()).isEqualTo(2);

        assertThat(f.driver.availEvent()).as("idle again: kick me when you pass 2").isEqualTo(2);
    }

    @Test
    void withEventIdxTheDriverIsCalledOnlyWhenTheUsedIndexPassesItsUsedEvent() {
        start(EVENT_IDX);
        for (int i = 0; i < 4; i++) {
            submit(i);
        }
        f.poll();
        f.driver.usedEvent(2); // call me once the third completion is in

        f.received.get(0).complete((byte) 0, 1);
        f.received.get(1).complete((byte) 0, 1);
        assertThat(f.queue.signalIfNeeded()).isZero();
        assertThat(calls()).isZero();

        f.received.get(2).complete((byte) 0, 1);
        f.received.get(3).complete((byte) 0, 1);
        assertThat(f.queue.signalIfNeeded()).as("one call for the batch").isEqualTo(1);
        assertThat(calls()).isEqualTo(1);
        assertThat(f.queue.signalIfNeeded()).as("nothing new").isZero();
        assertThat(f.driver.usedIdx()).isEqualTo(4);
    }

    @Test
    void withoutEventIdxKicksAreOffWhileTheQueueWorksAndCallsFollowTheNoInterruptFlag() {
        start(0);
        assertThat(f.driver.usedFlags() & SplitRing.USED_F_NO_NOTIFY).isZero();
        submit(0);
        f.queue.poll(f.handler, 1); // budget spent with the ring not yet seen empty
        assertThat(f.driver.usedFlags() & SplitRing.USED_F_NO_NOTIFY).as("busy: no kicks needed").isNotZero();
        f.poll();
        assertThat(f.driver.usedFlags() & SplitRing.USED_F_NO_NOTIFY).as("idle: kick me").isZero();

        f.driver.availFlags(SplitRing.AVAIL_F_NO_INTERRUPT);
        f.received.getFirst().complete((byte) 0, 1);
        assertThat(f.queue.signalIfNeeded()).isZero();
        submit(1);
        f.poll();
        f.driver.availFlags(0);
        f.received.get(1).complete((byte) 0, 1);
        assertThat(f.queue.signalIfNeeded()).isEqualTo(1);
        assertThat(calls()).isEqualTo(1);
    }

    @Test
    void aRequestMadeWhileTheQueueTurnsToIdleIsNotLeftWaitingForAKick() {
        start(EVENT_IDX);
        submit(0);
        f.poll();
        submit(1); // after the device's last look, before it would sleep: no kick comes for it (avail_event is 1)

        assertThat(f.poll()).isEqualTo(1);
        assertThat(f.received).hasSize(2);
    }
}
