package io.keel.vhost.virtio;

import static io.keel.vhost.virtio.RingFixture.DATA;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The inflight region records which heads the back end holds; a back end that starts on a region with heads still
 * marked (it restarted while the guest waited for them) submits them again, oldest first, before new ones, except
 * those the used ring already gave back.
 */
class InflightRingTest {
    @Test
    void headsInFlightAreMarkedAndACompletionUnmarksThem() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = arena.allocate(InflightRing.bytes(RingFixture.SIZE), 64);
            InflightRing.initialize(region, RingFixture.SIZE);
            try (RingFixture f = new RingFixture(0, region)) {
                f.driver.desc(4, DATA, 16, SplitRing.DESC_F_WRITE, 0).desc(9, DATA + 0x100, 16, SplitRing.DESC_F_WRITE, 0);
                f.driver.makeAvailable(4);
                f.driver.makeAvailable(9);
                f.poll();

                assertThat(inflight(region, 4)).isEqualTo((byte) 1);
                assertThat(inflight(region, 9)).isEqualTo((byte) 1);
                f.received.getFirst().complete((byte) 0, 1);
                assertThat(inflight(region, 4)).isZero();
                assertThat(region.get(ValueLayout.JAVA_SHORT_UNALIGNED, 14)).as("used_idx").isEqualTo((short) 1);
                assertThat(region.get(ValueLayout.JAVA_SHORT_UNALIGNED, 10)).as("desc_num").isEqualTo((short) 16);
            }
        }
    }

    @Test
    void aQueueStartedOnARegionWithHeadsStillInFlightSubmitsThemAgainOldestFirst() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = arena.allocate(InflightRing.bytes(RingFixture.SIZE), 64);
            InflightRing.initialize(region, RingFixture.SIZE);
            try (RingFixture before = new RingFixture(0, region)) {
                before.driver.desc(6, DATA, 16, SplitRing.DESC_F_WRITE, 0).desc(2, DATA, 16, SplitRing.DESC_F_WRITE, 0);
                before.driver.makeAvailable(6);
                before.driver.makeAvailable(2);
                before.poll(); // the back end "dies" with both in flight
            }
            try (RingFixture after = new RingFixture(0, region)) {
                // the guest's rings are still there (a fresh fixture has a fresh RAM: write them again); the front
                // end gives base 0, the used index, as QEMU does after its back end died
                after.driver.desc(6, DATA, 16, SplitRing.DESC_F_WRITE, 0).desc(2, DATA, 16, SplitRing.DESC_F_WRITE, 0);
                after.driver.makeAvailable(6);
                after.driver.makeAvailable(2);

                assertThat(after.poll()).as("each once: not popped again from the available ring").isEqualTo(2);

                assertThat(after.received).extracting(VirtqueueRequest::head).containsExactly(6, 2);
            }
        }
    }

    @Test
    void aBackEndThatDiedAfterTheUsedIndexMovedPastABatchLeavesOnlyTheRestInFlight() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = arena.allocate(InflightRing.bytes(RingFixture.SIZE), 64);
            InflightRing.initialize(region, RingFixture.SIZE);
            InflightRing before = new InflightRing(region);
            before.popped(6);
            before.popped(2);
            before.popped(5);
            before.popped(11);
            // the ring's used index moved from 0 past heads 2 and 11, then the back end died before the region knew
            int[] usedRing = {2, 11};

            InflightRing after = new InflightRing(region);
            assertThat(after.pending(RingFixture.SIZE, 2, i -> usedRing[i])).containsExactly(6, 5);
            assertThat(inflight(region, 2)).isZero();
            assertThat(inflight(region, 11)).isZero();
            assertThat(region.get(ValueLayout.JAVA_SHORT_UNALIGNED, 14)).as("used_idx").isEqualTo((short) 2);
        }
    }

    private static byte inflight(MemorySegment region, int head) {
        return region.get(ValueLayout.JAVA_BYTE, InflightRing.HEADER_BYTES + InflightRing.DESC_BYTES * head);
    }
}
