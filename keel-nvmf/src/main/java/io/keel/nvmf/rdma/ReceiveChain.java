package io.keel.nvmf.rdma;

import io.keel.rdma.ReceiveQueue;
import io.keel.rdma.RecvWorkRequests;
import java.util.Arrays;

/**
 * Where each receive buffer of one receive queue is — posted (the device holds it), held (a capsule in it is being
 * read), queued (to go out with the next post) or idle (neither: dropped with a closing qpair, or refused by a post)
 * — and the chain of queued receive work requests that one {@link #flush} hands over. A buffer returned twice is
 * refused: its work request posted twice would corrupt the queue. One owner thread.
 */
final class ReceiveChain {
    private static final byte POSTED = 0;
    private static final byte HELD = 1;
    private static final byte QUEUED = 2;
    private static final byte IDLE = 3;

    private final RecvWorkRequests recvs;
    private final byte[] where;
    /** The queued chain by slot (-1 ends it), as the work requests are linked. */
    private final int[] next;
    private int head = -1;
    private int tail = -1;
    private int queued;
    private int posted;
    private int held;
    private boolean closed;

    /** Every one of {@code recvs} (set up by the caller) queued, in order. */
    ReceiveChain(RecvWorkRequests recvs) {
        this.recvs = recvs;
        this.where = new byte[recvs.count()];
        this.next = new int[recvs.count()];
        Arrays.fill(where, IDLE);
        for (int i = 0; i < where.length; i++) {
            enqueue(i);
        }
    }

    /** Receive {@code i} completed (a capsule, or flushed): its buffer is held. */
    void received(int i) {
        expect(i, POSTED, "completed");
        where[i] = HELD;
        posted--;
        held++;
    }

    /** Buffer {@code i} is done with: queued for the next post (idle once closed). */
    void repost(int i) {
        expect(i, HELD, "reposted");
        held--;
        if (closed) {
            where[i] = IDLE;
        } else {
            enqueue(i);
        }
    }

    /** Buffer {@code i} is done with and not posted again. */
    void drop(int i) {
        expect(i, HELD, "dropped");
        held--;
        where[i] = IDLE;
    }

    boolean pending() {
        return head >= 0;
    }

    int queued() {
        return queued;
    }

    int posted() {
        return posted;
    }

    int held() {
        return held;
    }

    /**
     * Posts the queued chain to {@code queue} with one call, counted in {@code stats}: 0, or the post's
     * {@code -errno} — the receives the provider did not take go idle (they will not complete).
     */
    int flush(ReceiveQueue queue, RdmaDeviceStats stats) {
        if (head < 0) {
            return 0;
        }
        int first = head;
        int n = queued;
        head = -1;
        tail = -1;
        queued = 0;
        int rc = queue.postReceive(recvs, first);
        stats.recvDoorbellUpdates++;
        stats.totalRecvWrs += n;
        // the first the provider did not take; rdma-core's providers name it on every failure (none named: none taken)
        int stop = rc == 0 ? -1 : recvs.failedSlot();
        boolean taken = rc == 0 || stop >= 0;
        for (int i = first; i >= 0; i = next[i]) {
            if (i == stop) {
                taken = false;
            }
            where[i] = taken ? POSTED : IDLE;
            if (taken) {
                posted++;
            }
        }
        return rc;
    }

    /** No more posts: what is queued goes idle, and buffers done with from now on too. */
    void close() {
        closed = true;
        for (int i = head; i >= 0; i = next[i]) {
            where[i] = IDLE;
        }
        head = -1;
        tail = -1;
        queued = 0;
    }

    private void enqueue(int i) {
        where[i] = QUEUED;
        recvs.end(i);
        next[i] = -1;
        if (head < 0) {
            head = i;
        } else {
            recvs.link(tail, i);
            next[tail] = i;
        }
        tail = i;
        queued++;
    }

    private void expect(int i, byte state, String what) {
        if (where[i] != state) {
            throw new IllegalStateException("receive buffer " + i + " " + what + " while " + name(where[i]));
        }
    }

    private static String name(byte state) {
        return switch (state) {
            case POSTED -> "posted";
            case HELD -> "held";
            case QUEUED -> "queued";
            default -> "idle";
        };
    }
}
