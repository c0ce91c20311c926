package io.keel.nvme.host.rdma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * The zero-copy decision's lookup: data goes out as it is only when one registered range holds all of it; anything
 * else (outside every range, straddling two, a range already removed) is bounced.
 */
class RegistrationMapTest {
    private static final Object IOBUF_SMALL = "iobuf small";
    private static final Object IOBUF_LARGE = "iobuf large";
    private static final Object BDEVPERF = "bdevperf buffers";

    /** Three ranges, registered out of order; the large pool directly follows the small one. */
    private static RegistrationMap threeRanges() {
        return RegistrationMap.EMPTY
                .with(0x20_0000, 0x10_0000, 21, 22, IOBUF_LARGE)
                .with(0x90_0000, 0x1000, 31, 32, BDEVPERF)
                .with(0x10_0000, 0x10_0000, 11, 12, IOBUF_SMALL);
    }

    @Test
    void dataInsideOneRangeFindsThatRangesKeys() {
        RegistrationMap map = threeRanges();
        assertThat(map.size()).isEqualTo(3);
        RegistrationMap.Entry e = map.find(0x10_0000, 4096);
        assertThat(e.lkey()).isEqualTo(11);
        assertThat(e.rkey()).isEqualTo(12);
        assertThat(map.find(0x2F_F000, 4096).rkey()).as("the last page of the large pool").isEqualTo(22);
        assertThat(map.find(0x90_0000, 0x1000).owner()).isSameAs(BDEVPERF);
    }

    @Test
    void dataOutsideEveryRangeOrAcrossTwoIsBounced() {
        RegistrationMap map = threeRanges();
        assertThat(map.find(0x0F_F000, 4096)).as("before the first range").isNull();
        assertThat(map.find(0x0F_F000, 8192)).as("reaching into the first range").isNull();
        assertThat(map.find(0x1F_F000, 8192)).as("across the small and the large pool, though adjacent").isNull();
        assertThat(map.find(0x30_0000, 4096)).as("right after the large pool").isNull();
        assertThat(map.find(0x90_0800, 0x1000)).as("running past the end of the buffers").isNull();
        assertThat(map.find(0xA0_0000, 512)).as("after the last range").isNull();
        assertThat(RegistrationMap.EMPTY.find(0x10_0000, 1)).isNull();
    }

    @Test
    void aRemovedRangeIsNoLongerFoundAndTheOthersStay() {
        RegistrationMap map = threeRanges();
        RegistrationMap after = map.without(BDEVPERF);
        assertThat(after.find(0x90_0000, 512)).isNull();
        assertThat(after.find(0x20_0000, 512).owner()).isSameAs(IOBUF_LARGE);
        assertThat(map.find(0x90_0000, 512)).as("a map never changes: readers holding it are unaffected").isNotNull();
        assertThat(after.without(BDEVPERF)).as("removing what is not there").isSameAs(after);
    }

    @Test
    void overlappingOrEmptyRangesAreRefused() {
        RegistrationMap map = threeRanges();
        assertThatThrownBy(() -> map.with(0x1F_F000, 0x2000, 1, 1, "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> map.with(0x8F_F000, 0x2000, 1, 1, "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> map.with(0x90_0000, 0, 1, 1, "x")).isInstanceOf(IllegalArgumentException.class);
        assertThat(map.with(0x30_0000, 0x1000, 1, 1, "x").find(0x30_0000, 0x1000)).as("adjacent is fine").isNotNull();
    }

    @Test
    void aLookupAllocatesNothing() {
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        RegistrationMap map = threeRanges();
        long best = Long.MAX_VALUE;
        long found = 0;
        for (int round = 0; round < 5; round++) {
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 100_000; i++) {
                if (map.find(0x10_0000 + (i & 0xFF) * 0x2000L, 4096) != null) {
                    found++;
                }
            }
            if (round >= 2) {
                best = Math.min(best, mx.getCurrentThreadAllocatedBytes() - before);
            }
        }
        assertThat(found).isPositive();
        assertThat(best).as("bytes allocated by 100,000 lookups").isZero();
    }
}
