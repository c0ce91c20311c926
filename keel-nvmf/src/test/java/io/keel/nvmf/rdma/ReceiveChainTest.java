package io.keel.nvmf.rdma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.rdma.ReceiveQueue;
import io.keel.rdma.RecvWorkRequests;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The bookkeeping of a receive queue's buffers (a shared receive queue's or a qpair's own), against a queue that
 * records its posts: every buffer is posted, held or queued, one post per flush, and none is posted twice or lost.
 */
class ReceiveChainTest {
    private final RecvWorkRequests recvs = new RecvWorkRequests(8, 1);
    private final RdmaDeviceStats stats = new RdmaDeviceStats("rxe0");
    private final Posts queue = new Posts();

    /** Records the first slot of each post; answers {@code rc}. */
    private static final class Posts implements ReceiveQueue {
        final List<Integer> firsts = new ArrayList<>();
        int rc;

        @Override
        public int postReceive(RecvWorkRequests requests, int first) {
            firsts.add(first);
            return rc;
        }
    }

    @AfterEach
    void free() {
        recvs.close();
    }

    @Test
    void everyBufferGoesOutWithTheFirstPostAndComesBackQueuedForTheNext() {
        ReceiveChain chain = new ReceiveChain(recvs);
        assertThat(chain.queued()).isEqualTo(8);
        assertThat(chain.flush(queue, stats)).isZero();
        assertThat(queue.firsts).containsExactly(0);
        assertThat(chain.posted()).isEqualTo(8);
        assertThat(chain.pending()).isFalse();
        assertThat(chain.flush(queue, stats)).as("nothing queued: no post").isZero();
        assertThat(queue.firsts).hasSize(1);

        chain.received(5);
        chain.received(2);
        assertThat(chain.held()).isEqualTo(2);
        chain.repost(5);
        chain.repost(2);
        assertThat(chain.queued()).isEqualTo(2);
        chain.flush(queue, stats);
        assertThat(queue.firsts).as("one post for both, in the order they came back").containsExactly(0, 5);
        assertThat(chain.posted()).isEqualTo(8);
        assertThat(stats.recvDoorbellUpdates).isEqualTo(2);
        assertThat(stats.totalRecvWrs).isEqualTo(10);
    }

    @Test
    void aBufferReturnedTwiceOrNeverPostedIsRefused() {
        ReceiveChain chain = new ReceiveChain(recvs);
        chain.flush(queue, stats);
        chain.received(3);
        chain.repost(3);
        assertThatThrownBy(() -> chain.repost(3)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("receive buffer 3 reposted while queued");
        assertThatThrownBy(() -> chain.received(3)).as("queued, not posted").isInstanceOf(
                IllegalStateException.class);
        assertThatThrownBy(() -> chain.drop(4)).as("posted, not held").isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aClosingQpairDropsItsBuffersAndAClosedQueueOnlyCountsThemBack() {
        ReceiveChain chain = new ReceiveChain(recvs);
        chain.flush(queue, stats);
        chain.received(0);
        chain.received(1);
        chain.drop(0);
        assertThat(chain.held()).isEqualTo(1);
        chain.close();
        chain.repost(1);
        assertThat(chain.held()).isZero();
        assertThat(chain.pending()).as("nothing to post once closed").isFalse();
    }

    @Test
    void whatAFailedPostDidNotTakeIsNeitherPostedNorQueued() {
        ReceiveChain chain = new ReceiveChain(recvs);
        queue.rc = -12; // -ENOMEM, naming no request: none taken
        assertThat(chain.flush(queue, stats)).isEqualTo(-12);
        assertThat(chain.posted()).isZero();
        assertThat(chain.queued()).isZero();
        assertThat(chain.pending()).isFalse();
    }
}
