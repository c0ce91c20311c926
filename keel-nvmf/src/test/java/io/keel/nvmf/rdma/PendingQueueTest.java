package io.keel.nvmf.rdma;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Scenario S3's queue: with a pool of two, requests beyond it wait in order, each freed resource starts the next,
 * an idle re-drive starts what a resource freed elsewhere allows, and a closing qpair's requests leave the line.
 */
class PendingQueueTest {
    private int free = 2;
    private final List<String> started = new ArrayList<>();
    private final PendingQueue<String> queue = new PendingQueue<>(r -> {
        if (free == 0) {
            return false;
        }
        free--;
        started.add(r);
        return true;
    });

    @Test
    void requestsBeyondThePoolWaitInOrderAndStartAsResourcesComeBack() {
        for (String r : List.of("a", "b", "c", "d", "e")) {
            queue.submit(r);
        }
        assertThat(started).containsExactly("a", "b");
        assertThat(queue.size()).isEqualTo(3);
        assertThat(queue.queued()).as("pending_data_buffer counts each wait").isEqualTo(3);
        free++; // a completion gives one back
        assertThat(queue.redrive()).isEqualTo(1);
        assertThat(started).containsExactly("a", "b", "c");
        assertThat(queue.redrive()).as("an idle re-drive with nothing free starts nothing").isZero();
        free += 5; // freed on another thread: only the idle re-drive notices
        assertThat(queue.redrive()).isEqualTo(2);
        assertThat(started).containsExactly("a", "b", "c", "d", "e");
        assertThat(queue.isEmpty()).isTrue();
    }

    @Test
    void aNewRequestDoesNotOvertakeOnesAlreadyWaiting() {
        free = 0;
        queue.submit("first");
        free = 1;
        queue.submit("second");
        assertThat(started).as("second waits behind first").isEmpty();
        queue.redrive();
        assertThat(started).containsExactly("first");
    }

    @Test
    void aClosingQpairsRequestsLeaveTheLine() {
        free = 0;
        queue.submit("q1-a");
        queue.submit("q2-a");
        queue.submit("q1-b");
        assertThat(queue.removeIf(r -> r.startsWith("q1"))).isEqualTo(2);
        free = 5;
        queue.redrive();
        assertThat(started).containsExactly("q2-a");
    }
}
