package io.keel.vhost.virtio;

import static io.keel.vhost.virtio.RingFixture.DATA;
import static io.keel.vhost.virtio.SplitRing.DESC_F_INDIRECT;
import static io.keel.vhost.virtio.SplitRing.DESC_F_NEXT;
import static io.keel.vhost.virtio.SplitRing.DESC_F_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import io.keel.core.testing.LogCapture;
import io.keel.vhost.memory.GuestMemory;
import io.keel.vhost.testing.DriverRing;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Descriptor chains as a virtio-blk driver builds them (a header the device reads, data, a status byte it writes),
 * direct and through an indirect table, become segments pointing straight into guest memory; every malformed chain
 * fails alone (used length 0, a log line) and the queue goes on.
 */
class VirtqueueChainTest {
    private static final long ALL = VirtioFeatures.bit(VirtioFeatures.RING_INDIRECT_DESC)
            | VirtioFeatures.bit(VirtioFeatures.RING_EVENT_IDX) | VirtioFeatures.bit(VirtioFeatures.VERSION_1);
    private RingFixture f = new RingFixture(ALL);

    @AfterEach
    void close() {
        f.close();
    }

    private long ramOffset(long gpa) {
        return gpa - RingFixture.RAM_BASE;
    }

    @Test
    void aDirectChainBecomesReadableThenWritableSegmentsInGuestMemoryAndCompletesIntoTheUsedRing() {
        DriverRing d = f.driver;
        d.desc(3, DATA, 16, DESC_F_NEXT, 7).desc(7, DATA + 0x1000, 4096, DESC_F_NEXT | DESC_F_WRITE, 9)
                .desc(9, DATA + 0x3000, 1, DESC_F_WRITE, 0);
        f.ram.bytes().set(ValueLayout.JAVA_INT, ramOffset(DATA), 0x55aa);
        d.makeAvailable(3);

        assertThat(f.poll()).isEqualTo(1);

        VirtqueueRequest r = f.received.getFirst();
        assertThat(r.head()).isEqualTo(3);
        assertThat(r.segmentCount()).isEqualTo(3);
        assertThat(r.readableCount()).isEqualTo(1);
        assertThat(r.readableBytes()).isEqualTo(16);
        assertThat(r.writableBytes()).isEqualTo(4097);
        assertThat(r.slice(0).get(ValueLayout.JAVA_INT, 0)).as("read in place").isEqualTo(0x55aa);
        assertThat(r.writable(1)).isTrue();
        assertThat(r.length(1)).isEqualTo(4096);
        r.slice(1).set(ValueLayout.JAVA_LONG, 8, 99L);
        assertThat(f.ram.bytes().get(ValueLayout.JAVA_LONG, ramOffset(DATA + 0x1000 + 8))).as("written in place")
                .isEqualTo(99L);
        assertThat(f.queue.inFlight()).isEqualTo(1);

        r.complete((byte) 0x5, 4097);

        assertThat(d.usedIdx()).isEqualTo(1);
        assertThat(d.usedId(0)).isEqualTo(3);
        assertThat(d.usedLen(0)).isEqualTo(4097);
        assertThat(f.ram.bytes().get(ValueLayout.JAVA_BYTE, ramOffset(DATA + 0x3000))).as("status byte").isEqualTo((byte) 5);
        assertThat(f.queue.inFlight()).isZero();
        assertThatIllegalStateException().isThrownBy(() -> r.complete((byte) 0, 1)).withMessageContaining("not in flight");
    }

    @Test
    void anIndirectTableIsWalkedLikeAChain() {
        long table = DATA + 0x8000;
        f.driver.desc(0, table, 3 * 16, DESC_F_INDIRECT, 0);
        f.driver.descAt(table, DATA, 16, DESC_F_NEXT, 1).descAt(table + 16, DATA + 0x1000, 512, DESC_F_NEXT, 2)
                .descAt(table + 32, DATA + 0x2000, 1, DESC_F_WRITE, 0);
        f.driver.makeAvailable(0);

        f.poll();

        VirtqueueRequest r = f.received.getFirst();
        assertThat(r.segmentCount()).isEqualTo(3);
        assertThat(r.readableCount()).isEqualTo(2);
        assertThat(r.offset(1)).isEqualTo(ramOffset(DATA + 0x1000));
        assertThat(r.length(1)).isEqualTo(512);
        r.complete((byte) 0, 1);
        assertThat(f.driver.usedId(0)).isZero();
    }

    @Test
    void aBufferSpanningTwoMemoryRegionsIsTwoSegments() {
        GuestMemory split = GuestMemory.map(List.of(f.ram.region(0, 0x1_1000), f.ram.region(0x1_1000, 0xe_f000)),
                new int[] {f.ram.fd(), f.ram.fd()}, f.cs);
        assertThat(f.queue.remap(split)).isNull();
        f.driver.desc(0, DATA + 0x800, 0x1000, DESC_F_WRITE, 0);
        f.driver.makeAvailable(0);

        f.poll();

        VirtqueueRequest r = f.received.getFirst();
        assertThat(r.segmentCount()).isEqualTo(2);
        assertThat(r.length(0)).isEqualTo(0x800);
        assertThat(r.length(1)).isEqualTo(0x800);
        assertThat(r.base(1)).isNotSameAs(r.base(0));
        r.complete((byte) 0, 0);
        split.retire(f.cs);
    }

    /** Makes head 0 a chain as {@code build} writes it, then a good one-descriptor request at head 5. */
    private void refusedThenGood(Runnable build, String logged) {
        build.run();
        f.driver.makeAvailable(0);
        f.driver.desc(5, DATA, 16, 0, 0);
        f.driver.makeAvailable(5);
        try (LogCapture log = LogCapture.warningsOf(Virtqueue.class)) {
            assertThat(f.poll()).isEqualTo(2);
            assertThat(log.lines()).singleElement().asString().contains("request 0 refused", logged);
        }
        assertThat(f.driver.usedIdx()).as("the refused chain went back at once").isEqualTo(1);
        assertThat(f.driver.usedId(0)).isZero();
        assertThat(f.driver.usedLen(0)).isZero();
        assertThat(f.received).singleElement().extracting(VirtqueueRequest::head).isEqualTo(5);
        assertThat(f.queue.badChains()).isEqualTo(1);
        assertThat(f.queue.inFlight()).isEqualTo(1);
    }

    @Test
    void aLoopingChainFailsAlone() {
        // empty buffers: no segment limit ends the walk first
        refusedThenGood(() -> f.driver.desc(0, DATA, 0, DESC_F_NEXT, 1).desc(1, DATA, 0, DESC_F_NEXT, 0), "loops");
    }

    @Test
    void aNextIndexOutOfRangeFailsAlone() {
        refusedThenGood(() -> f.driver.desc(0, DATA, 16, DESC_F_NEXT, RingFixture.SIZE), "out of range");
    }

    @Test
    void aBufferOutsideGuestMemoryFailsAlone() {
        refusedThenGood(() -> f.driver.desc(0, RingFixture.RAM_BASE + (1 << 20) - 8, 16, 0, 0), "outside guest memory");
    }

    @Test
    void aReadableBufferAfterAWritableOneFailsAlone() {
        refusedThenGood(() -> f.driver.desc(0, DATA, 16, DESC_F_WRITE | DESC_F_NEXT, 1).desc(1, DATA, 16, 0, 0),
                "follows a device-writable");
    }

    @Test
    void moreSegmentsThanTheDeviceTakesFailAlone() {
        refusedThenGood(() -> {
            for (int i = 0; i < 9; i++) {
                f.driver.desc(i == 0 ? 0 : 5 + i, DATA, 16, i < 8 ? DESC_F_NEXT : 0, 6 + i);
            }
        }, "more segments");
    }

    @Test
    void nestedIndirectTablesFailAlone() {
        long table = DATA + 0x8000;
        refusedThenGood(() -> {
            f.driver.desc(0, table, 16, DESC_F_INDIRECT, 0);
            f.driver.descAt(table, table, 16, DESC_F_INDIRECT, 0);
        }, "nested");
    }

    @Test
    void anIndirectTableWithARaggedLengthFailsAlone() {
        refusedThenGood(() -> f.driver.desc(0, DATA + 0x8000, 20, DESC_F_INDIRECT, 0), "whole number");
    }

    @Test
    void anIndirectDescriptorWithNextFailsAlone() {
        refusedThenGood(() -> f.driver.desc(0, DATA + 0x8000, 16, DESC_F_INDIRECT | DESC_F_NEXT, 1), "NEXT");
    }

    @Test
    void anIndirectDescriptorThatWasNotNegotiatedFailsAlone() {
        f.close();
        f = new RingFixture(VirtioFeatures.bit(VirtioFeatures.VERSION_1));
        refusedThenGood(() -> f.driver.desc(0, DATA + 0x8000, 16, DESC_F_INDIRECT, 0), "INDIRECT_DESC");
    }

    @Test
    void aHeadAlreadyInFlightIsNotTakenTwice() {
        f.driver.desc(2, DATA, 16, 0, 0);
        f.driver.makeAvailable(2);
        f.driver.makeAvailable(2);

        f.poll();

        assertThat(f.received).hasSize(1);
        assertThat(f.queue.badChains()).isEqualTo(1);
        assertThat(f.driver.usedIdx()).as("no used entry for the duplicate").isZero();
    }

    @Test
    void anAvailableIndexRunningAheadByMoreThanTheQueueSizeStopsTheQueue() {
        f.ram.bytes().set(ValueLayout.JAVA_SHORT_UNALIGNED, ramOffset(f.driver.availAddr()) + 2,
                (short) (RingFixture.SIZE + 1));

        try (LogCapture log = LogCapture.errorsOf(Virtqueue.class)) {
            assertThat(f.poll()).isZero();
            assertThat(log.lines()).singleElement().asString().contains("queue stopped");
        }
        assertThat(f.queue.started()).isFalse();
    }
}
