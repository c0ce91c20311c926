package io.keel.nvmf.rdma;

import io.keel.rdma.CompletionChannel;
import io.keel.rdma.CompletionQueue;
import io.keel.rdma.DeviceAttributes;
import io.keel.rdma.RdmaException;
import io.keel.rdma.SharedReceiveQueue;
import io.keel.rdma.WorkCompletions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One poll group's part of one device (SPDK's {@code spdk_nvmf_rdma_poller}): the completion queue every qpair of
 * the group on that device completes into, its completion channel (watched in interrupt mode), the reusable
 * completions array and the device's counters; unless {@code no_srq}, the shared receive queue the qpairs take their
 * capsules from, with its buffers, and the qpairs on it by queue pair number (where a receive's completion goes).
 * Made on the group's thread when the transport opens the device (or with the group's first qpair on it); closed
 * there when the group stops, after its qpairs.
 */
final class RdmaPoller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RdmaPoller.class);
    /** Completions taken per poll call. */
    static final int BATCH = 32;

    final RdmaDevice device;
    final CompletionChannel channel;
    final CompletionQueue cq;
    final WorkCompletions completions = new WorkCompletions(BATCH);
    final RdmaDeviceStats stats;
    /** The shared receive queue, or null: each qpair posts its own receives. */
    final SharedReceiveQueue srq;
    /** The shared receive queue's capsule buffers, or null. */
    final RdmaReceives sharedReceives;
    /** The qpairs on the shared receive queue by queue pair number. */
    final IntKeyMap<RdmaQpair> byQpNum = new IntKeyMap<>();
    /** Completion queue entries the receives and the qpairs on it may need together (each asks at accept). */
    int cqeReserved;
    /** Whether the device sent IBV_EVENT_QP_LAST_WQE_REACHED for a queue pair of this group. */
    boolean lastWqeEventSeen;
    private boolean noLastWqeEventLogged;

    private RdmaPoller(RdmaDevice device, CompletionChannel channel, CompletionQueue cq, SharedReceiveQueue srq,
            RdmaReceives sharedReceives) {
        this.device = device;
        this.channel = channel;
        this.cq = cq;
        this.srq = srq;
        this.sharedReceives = sharedReceives;
        this.stats = new RdmaDeviceStats(device.name());
        this.cqeReserved = sharedReceives != null ? sharedReceives.count() : 0;
        if (sharedReceives != null) {
            flushSharedReceives();
        }
    }

    /**
     * Makes the group's part of {@code device} (the group's thread; {@code group} names it in the log): with shared
     * receive queues (not {@code no_srq}, and the device has them) one of min({@code max_srq_depth}, the device's
     * {@code max_srq_wr}) capsules of {@code capsuleSize} bytes, every one posted, and a completion queue of three
     * entries per capsule (SPDK's sizing); else a completion queue of {@code num_cqe}. Logs what it made and the
     * device's limits. Throws {@link RdmaException} if the device refuses, having freed what it made.
     */
    static RdmaPoller create(String group, RdmaDevice device, RdmaTransportOptions options, int capsuleSize) {
        DeviceAttributes limits = device.attributes();
        int srqDepth = 0;
        if (!options.noSrq()) {
            if (limits.maxSrq() < 1) {
                LOG.warn("nvmf: {} on RDMA device {}: the device has no shared receive queues (max_srq 0): each qpair "
                        + "posts its own receives", group, device.name());
            } else {
                srqDepth = (int) Math.min(options.maxSrqDepth(), limits.maxSrqWr());
                if (options.maxSrqDepth() > limits.maxSrqWr()) {
                    LOG.warn("nvmf: {} on RDMA device {}: max_srq_depth {} is more than the device's max_srq_wr {}",
                            group, device.name(), options.maxSrqDepth(), limits.maxSrqWr());
                }
            }
        }
        CompletionChannel channel = device.context().createCompletionChannel();
        SharedReceiveQueue srq = null;
        RdmaReceives receives = null;
        CompletionQueue cq = null;
        try {
            if (srqDepth > 0) {
                srq = sharedReceiveQueue(group, device, srqDepth);
            }
            long wanted = srq != null ? 3L * srqDepth : options.numCqe();
            int entries = (int) Math.min(wanted, limits.maxCqe());
            cq = device.context().createCompletionQueue(entries, channel);
            if (srq != null) {
                receives = new RdmaReceives(device.pd(), srqDepth, capsuleSize, RdmaQpair::sharedReceiveId);
            }
            LOG.info("nvmf: {} on RDMA device {}: {}, completion queue of {} entries{}; device limits: {}", group,
                    device.name(), srq != null ? "shared receive queue of " + srqDepth + " capsules of " + capsuleSize
                            + " bytes (max_srq_depth " + options.maxSrqDepth() + ")" : "no shared receive queue",
                    cq.capacity(), wanted > entries ? " (" + wanted + " wanted, max_cqe " + limits.maxCqe() + ")" : "",
                    limits);
            return new RdmaPoller(device, channel, cq, srq, receives);
        } catch (RuntimeException e) {
            if (receives != null) {
                receives.close();
            }
            if (cq != null) {
                cq.close();
            }
            if (srq != null) {
                srq.close();
            }
            channel.close();
            throw e;
        }
    }

    /** The shared receive queue, or null when the device refuses one (its qpairs then post their own receives). */
    private static SharedReceiveQueue sharedReceiveQueue(String group, RdmaDevice device, int depth) {
        try {
            return device.pd().createSharedReceiveQueue(depth, 1);
        } catch (RdmaException e) {
            LOG.warn("nvmf: {} on RDMA device {}: no shared receive queue ({}): each qpair posts its own receives",
                    group, device.name(), e.getMessage());
            return null;
        }
    }

    /**
     * Completion queue entries a qpair of {@code depth} entries needs, {@code stride} send work requests per entry:
     * each of them (unsignaled ones complete when flushed), and a RECV without the shared receive queue (whose
     * receives were counted when it was made).
     */
    int cqesFor(int depth, int stride) {
        return (stride + (srq != null ? 0 : 1)) * depth;
    }

    /**
     * {@code q} was destroyed without IBV_EVENT_QP_LAST_WQE_REACHED: said once for a device that never sent one, every
     * time for one that did.
     */
    void noLastWqeEvent(RdmaQpair q) {
        if (lastWqeEventSeen) {
            LOG.warn("nvmf: RDMA device {}: no IBV_EVENT_QP_LAST_WQE_REACHED for {} within {} ms of its close", device
                    .name(), q, RdmaQpair.LAST_WQE_BOUND_NANOS / 1_000_000);
        } else if (!noLastWqeEventLogged) {
            noLastWqeEventLogged = true;
            LOG.info("nvmf: RDMA device {} sent no IBV_EVENT_QP_LAST_WQE_REACHED within {} ms of a qpair's close: its "
                    + "shared-receive qpairs are destroyed after that wait (a late receive is reposted by its queue "
                    + "pair number)", device.name(), RdmaQpair.LAST_WQE_BOUND_NANOS / 1_000_000);
        }
    }

    /** Posts the shared receive queue's queued buffers (one post). */
    void flushSharedReceives() {
        int rc = sharedReceives.flush(srq, stats);
        if (rc != 0) {
            LOG.error("nvmf: RDMA device {}: ibv_post_srq_recv failed ({}); {} of {} capsule buffers posted",
                    device.name(), rc, sharedReceives.posted(), sharedReceives.count());
        }
    }

    /** After the qpairs: the shared receive queue, its buffers (once no command holds one), the queue, the channel. */
    @Override
    public void close() {
        if (srq != null) {
            srq.close();
            sharedReceives.close();
        }
        cq.close();
        channel.close();
        completions.close();
    }
}
