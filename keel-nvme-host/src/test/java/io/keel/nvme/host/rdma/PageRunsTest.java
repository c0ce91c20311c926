package io.keel.nvme.host.rdma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PageRunsTest {
    private static final int PAGE = PageRuns.PAGE;

    @Test
    void runsAreContiguousPagesAndComeBackWhenFreed() {
        PageRuns runs = new PageRuns(8 * PAGE);
        long a = runs.allocate(PAGE);
        long b = runs.allocate(3 * PAGE - 100);
        assertThat(a).isZero();
        assertThat(b).isEqualTo(PAGE);
        assertThat(runs.freePages()).isEqualTo(4);
        assertThat(runs.allocate(5 * PAGE)).as("more than is free").isEqualTo(-1);
        runs.free(a, PAGE);
        long c = runs.allocate(4 * PAGE);
        assertThat(c).isEqualTo(4 * PAGE);
        assertThat(runs.allocate(2 * PAGE)).as("one free page, not two in a row").isEqualTo(-1);
        assertThat(runs.allocate(PAGE)).isZero();
    }

    @Test
    void aRunNeverWrapsAroundTheEnd() {
        PageRuns runs = new PageRuns(4 * PAGE);
        long a = runs.allocate(2 * PAGE);
        long b = runs.allocate(PAGE);
        runs.free(a, 2 * PAGE);
        // free: pages 0, 1 and 3; the search starts after page 2
        assertThat(runs.allocate(2 * PAGE)).isZero();
        assertThat(b).isEqualTo(2 * PAGE);
    }

    @Test
    void freeingWhatIsNotInUseIsAnError() {
        PageRuns runs = new PageRuns(4 * PAGE);
        assertThatThrownBy(() -> runs.free(0, PAGE)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> runs.allocate(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void randomAllocationsNeverOverlapAndAllComeBack() {
        PageRuns runs = new PageRuns(300 * PAGE); // several bitmap words, the last one partial
        Random rnd = new Random(13);
        List<long[]> held = new ArrayList<>();
        boolean[] used = new boolean[300];
        for (int step = 0; step < 20_000; step++) {
            if (!held.isEmpty() && (rnd.nextBoolean() || runs.freePages() == 0)) {
                long[] r = held.remove(rnd.nextInt(held.size()));
                runs.free(r[0], r[1]);
                mark(used, r, false);
                continue;
            }
            long bytes = 1 + rnd.nextInt(40 * PAGE);
            long off = runs.allocate(bytes);
            if (off < 0) {
                continue;
            }
            long[] r = {off, bytes};
            for (int p = (int) (off / PAGE); p < (off + bytes + PAGE - 1) / PAGE; p++) {
                assertThat(used[p]).as("page %d handed out twice", p).isFalse();
            }
            assertThat(off + bytes).isLessThanOrEqualTo(300L * PAGE);
            mark(used, r, true);
            held.add(r);
        }
        held.forEach(r -> runs.free(r[0], r[1]));
        assertThat(runs.freePages()).isEqualTo(300);
        assertThat(runs.allocate(300L * PAGE)).isZero();
    }

    private static void mark(boolean[] used, long[] r, boolean v) {
        for (int p = (int) (r[0] / PAGE); p < (r[0] + r[1] + PAGE - 1) / PAGE; p++) {
            used[p] = v;
        }
    }
}
