package io.keel.nvme.host.rdma;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.sys.Epoll;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.rdma.CompletionChannel;
import io.keel.rdma.CompletionQueue;
import io.keel.rdma.VerbsContext;
import io.keel.rdma.WorkCompletions;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One RDMA device as one poll group uses it (SPDK's {@code nvme_rdma_poller}): completion queues shared by the group's
 * qpairs on the device (each qpair reserves room for every work request it may have posted; a queue that cannot take
 * another qpair's share is joined by a new one), in interrupt mode a completion channel the reactor watches, and
 * SPDK's per-device counters with Keel's beside them (how each command's data moved). Owner thread only.
 */
final class RdmaDevice implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RdmaDevice.class);
    /** Entries of a shared completion queue (more when one qpair needs more). */
    static final int CQ_ENTRIES = 4096;

    private final VerbsContext context;
    private final String name;
    private final CompletionChannel channel;
    private FdWatch watch;
    private final List<CompletionQueue> cqs = new ArrayList<>(1);
    private final List<int[]> reserved = new ArrayList<>(1);

    // SPDK's spdk_nvme_rdma_device_stat
    long polls;
    long idlePolls;
    long completions;
    long queuedRequests;
    long totalSendWrs;
    long sendDoorbellUpdates;
    long totalRecvWrs;
    long recvDoorbellUpdates;
    // Keel's: commands whose data the controller reached in the caller's own memory (keyed or in-capsule), was
    // copied through the qpair's bounce range for, or was copied into the capsule for
    long zeroCopyRequests;
    long bouncedRequests;
    long copiedInCapsuleRequests;

    /**
     * The device of {@code context}; in interrupt mode ({@code group} non-null) its
     * completion channel is watched on {@code thread} and {@code group} drives the completions when it fires.
     */
    RdmaDevice(VerbsContext context, KeelThread thread, RdmaPollGroup group) {
        this.context = context;
        this.name = context.deviceName();
        this.channel = group == null ? null : context.createCompletionChannel();
        if (channel != null) {
            watch = thread.watchFd(channel.fd(), Epoll.EPOLLIN, ready -> watch == null ? 0 : group.onCompletionEvent(this));
        }
    }

    long contextAddress() {
        return context.address();
    }

    String name() {
        return name;
    }

    /** A completion queue with room for {@code entries} more completions, reserved for the caller. */
    CompletionQueue reserve(int entries) {
        for (int i = 0; i < cqs.size(); i++) {
            int[] r = reserved.get(i);
            if (cqs.get(i).capacity() - r[0] >= entries) {
                r[0] += entries;
                return cqs.get(i);
            }
        }
        CompletionQueue cq = context.createCompletionQueue(Math.max(CQ_ENTRIES, entries), channel);
        if (channel != null) {
            arm(cq);
        }
        cqs.add(cq);
        reserved.add(new int[] {entries});
        return cq;
    }

    /** Gives back what {@link #reserve} took. */
    void unreserve(CompletionQueue cq, int entries) {
        int i = cqs.indexOf(cq);
        if (i >= 0) {
            reserved.get(i)[0] -= entries;
        }
    }

    /** Polls every queue until it has nothing more; {@code into} receives them, {@code group} dispatches. */
    int poll(WorkCompletions into, RdmaPollGroup group) {
        int total = 0;
        for (int i = 0; i < cqs.size(); i++) {
            CompletionQueue cq = cqs.get(i);
            int n;
            do {
                n = cq.poll(into, into.capacity());
                if (n < 0) {
                    LOG.error("nvme rdma: ibv_poll_cq on {} failed: {}", name, n);
                    break;
                }
                group.dispatch(into, n);
                total += n;
            } while (n == into.capacity());
        }
        polls++;
        if (total == 0) {
            idlePolls++;
        }
        completions += total;
        return total;
    }

    /**
     * Interrupt mode: takes the channel's events, polls, arms every queue again and polls once more (a completion
     * between the first poll and arming raises no event).
     */
    int onChannelReadable(WorkCompletions into, RdmaPollGroup group) {
        while (channel.nextEvent() > 0) {
            // each event names one queue; all are polled below
        }
        int n = poll(into, group);
        for (int i = 0; i < cqs.size(); i++) {
            arm(cqs.get(i));
        }
        return n + poll(into, group);
    }

    private void arm(CompletionQueue cq) {
        int rc = cq.requestNotify(false);
        if (rc < 0) {
            LOG.error("nvme rdma: ibv_req_notify_cq on {} failed: {}", name, rc);
        }
    }

    void statistics(ObjectNode d) {
        d.put("dev_name", name);
        d.put("polls", polls);
        d.put("idle_polls", idlePolls);
        d.put("completions", completions);
        d.put("queued_requests", queuedRequests);
        d.put("total_send_wrs", totalSendWrs);
        d.put("send_doorbell_updates", sendDoorbellUpdates);
        d.put("total_recv_wrs", totalRecvWrs);
        d.put("recv_doorbell_updates", recvDoorbellUpdates);
        d.put("zero_copy_requests", zeroCopyRequests);
        d.put("bounced_requests", bouncedRequests);
        d.put("copied_in_capsule_requests", copiedInCapsuleRequests);
    }

    /** Frees the queues and the channel; every qpair on the device is closed. */
    @Override
    public void close() {
        if (watch != null) {
            watch.cancel();
            watch = null;
        }
        cqs.forEach(CompletionQueue::close);
        cqs.clear();
        if (channel != null) {
            channel.close();
        }
    }
}
