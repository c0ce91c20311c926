package io.keel.vhost.virtio;

import static io.keel.vhost.virtio.SplitRing.AVAIL_F_NO_INTERRUPT;
import static io.keel.vhost.virtio.SplitRing.AVAIL_RING;
import static io.keel.vhost.virtio.SplitRing.INT_U;
import static io.keel.vhost.virtio.SplitRing.RING_FLAGS;
import static io.keel.vhost.virtio.SplitRing.RING_IDX;
import static io.keel.vhost.virtio.SplitRing.SHORT_U;
import static io.keel.vhost.virtio.SplitRing.U16;
import static io.keel.vhost.virtio.SplitRing.USED_ELEM_BYTES;
import static io.keel.vhost.virtio.SplitRing.USED_F_NO_NOTIFY;
import static io.keel.vhost.virtio.SplitRing.USED_RING;

import io.keel.core.sys.EventFd;
import io.keel.core.sys.Libc;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.MessageFn;
import io.keel.vhost.memory.GuestMemory;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device side of one split virtqueue in guest memory. The vhost-user connection configures it (size, ring
 * addresses, base, call fd), {@link #start}s it, and {@link #poll}s it on its thread; the device type's layer gets each
 * request through a {@link VirtqueueHandler} and completes it ({@link VirtqueueRequest#complete}).
 *
 * <p>Notifications: while the ring has work the driver is told not to kick (VRING_USED_F_NO_NOTIFY, or with
 * VIRTIO_F_EVENT_IDX simply no newer avail_event); when a poll finds it empty it asks for kicks again (avail_event =
 * the next index it will read), then looks once more, so a request made in between is never left waiting for a kick
 * that will not come. A request that ends is written to guest memory (status byte, used element) at the end of the
 * thread's round, with the others that ended in it, by a message the queue sends itself (at once off a Keel thread or
 * when it was the only request in flight), and the used index then moves once: from that shallow frame C2 compiles
 * the FFM stores whole, where at the bottom of the bdev layer's completion chain it ran out of inlining depth; and a
 * driver polling the index reads the elements' lines after each move, so moving it per completion pulled each line
 * across cores once per element. Calls are coalesced: {@link #signalIfNeeded} writes the call eventfd once for all
 * published completions, only when the driver asked (used_event crossed, or no NO_INTERRUPT flag).
 *
 * <p>Guest mistakes: a chain that is malformed or points outside guest memory is logged and returned to the driver
 * with a used length of 0 (only that request fails); an available index that runs ahead by more than the queue size
 * stops the queue. Owner thread only; nothing is allocated per request.
 */
public final class Virtqueue {
    private static final Logger LOG = LoggerFactory.getLogger(Virtqueue.class);
    private static final MessageFn<Virtqueue> PUBLISH_ENDED = Virtqueue::publishAtRoundEnd;

    private final String name;
    private final int index;
    private final int maxSegments;
    private final MemorySegment callState;
    private final MemorySegment countBuffer;
    // configured by the connection
    private int size;
    private long descAddr;
    private long availAddr;
    private long usedAddr;
    private boolean addressesSet;
    private int lastAvail;
    private int callFd = -1;
    private boolean enabled;
    // while started
    private boolean started;
    private GuestMemory memory;
    private MemorySegment desc;
    private MemorySegment avail;
    private MemorySegment used;
    private boolean eventIdx;
    private boolean indirect;
    private InflightRing inflight;
    /** The used index after the elements written so far; the ring's shows {@link #publishedUsed} until published. */
    private int usedIdx;
    private int publishedUsed;
    private boolean publishScheduled;
    private int signalledUsed;
    private boolean callPending;
    private boolean kicksEnabled;
    /** The queue's thread polls it continuously (a poll-mode reactor): the driver is never asked to kick. */
    private boolean polled;
    /** The avail_event this queue last wrote while polled (event-idx). */
    private int availEvent;
    /** Where {@link #touchNextSlot} puts what it read, so that the read is not optimised away. */
    private short nextSlotSink;
    /**
     * A polled queue moves avail_event half the index space ahead of the ring once the ring comes this close to it,
     * not on every batch: the driver reads avail_event on every submission, and a line the device keeps writing
     * costs the driver a cache miss per request (two cross-core transfers a round trip at queue depth one).
     */
    private static final int KICK_GUARD = 0x4000;
    private long generation;
    private int inFlight;
    private VirtqueueRequest[] requests = new VirtqueueRequest[0];
    private int[] resubmit = new int[0];
    /**
     * Requests that ended and are not yet written to guest memory ({@link #complete}), up to {@code endedCount}; the
     * slots past it still name requests already written (the queue's own, pooled), as {@code VirtqueueRequest.bases}.
     */
    private VirtqueueRequest[] ended = new VirtqueueRequest[0];
    private int endedCount;
    private int resubmitNext;
    // interrupt coalescing (SPDK's): above a request rate, calls are spaced by a delay that grows with the rate
    private long delayBaseNanos;
    private int ioThreshold;
    private long callDelayNanos;
    private long nextCallNanos;
    private long intervalStartNanos;
    private int completedInInterval;
    // statistics
    private long popped;
    private long badChains;
    private long calls;

    /** A queue of {@code name}'s session; requests carry at most {@code maxSegments} segments. */
    public Virtqueue(String name, int index, int maxSegments, SegmentAllocator arena) {
        this.name = name;
        this.index = index;
        this.maxSegments = maxSegments;
        this.callState = Libc.callState(arena);
        this.countBuffer = arena.allocate(EventFd.COUNT_BYTES, 8);
    }

    public int index() {
        return index;
    }

    // ---- configuration (the vhost-user connection) ----

    /** SET_VRING_NUM: a power of two; takes effect at the next start. */
    public void size(int size) {
        this.size = size;
    }

    public int size() {
        return size;
    }

    /** SET_VRING_ADDR: the rings' addresses in the front end's address space. */
    public void addresses(long desc, long avail, long used) {
        this.descAddr = desc;
        this.availAddr = avail;
        this.usedAddr = used;
        this.addressesSet = true;
    }

    /** SET_VRING_BASE: the next available index to read. */
    public void base(int lastAvailIdx) {
        this.lastAvail = lastAvailIdx & 0xffff;
    }

    /** The next available index the queue would read: GET_VRING_BASE's answer. */
    public int lastAvailIndex() {
        return lastAvail;
    }

    /** SET_VRING_CALL: the eventfd to call the driver through, or -1 (the driver polls). Stays the caller's. */
    public void callFd(int fd) {
        this.callFd = fd;
    }

    /** SET_VRING_ENABLE. */
    public void enabled(boolean on) {
        this.enabled = on;
    }

    public boolean enabled() {
        return enabled;
    }

    public boolean started() {
        return started;
    }

    /**
     * Starts the queue on {@code mem} with the negotiated {@code features}; {@code inflightRegion} is the queue's part
     * of the inflight region, or null. Null, or why it cannot start (the rings do not lie in guest memory, ...).
     */
    public String start(GuestMemory mem, long features, MemorySegment inflightRegion) {
        if (size == 0 || !addressesSet) {
            return "queue " + index + " has no size or no ring addresses";
        }
        String refused = mapRings(mem);
        if (refused != null) {
            return refused;
        }
        if (ended.length < size) {
            ended = Arrays.copyOf(ended, size); // ended and not yet written: at most the requests in flight
        }
        if (requests.length != size) {
            requests = new VirtqueueRequest[size];
            for (int i = 0; i < size; i++) {
                requests[i] = new VirtqueueRequest(this, maxSegments);
            }
        }
        eventIdx = (features & (1L << VirtioFeatures.RING_EVENT_IDX)) != 0;
        indirect = (features & (1L << VirtioFeatures.RING_INDIRECT_DESC)) != 0;
        usedIdx = (short) U16.getAcquire(used, RING_IDX) & 0xffff;
        publishedUsed = usedIdx;
        signalledUsed = usedIdx;
        generation++;
        inflight = inflightRegion == null ? null : new InflightRing(inflightRegion);
        List<Integer> pending = inflight == null ? List.of() : inflight.pending(size, usedIdx, this::usedHead);
        resubmit = pending.stream().mapToInt(Integer::intValue).toArray();
        resubmitNext = 0;
        if (inflight != null) {
            // every popped request is either used or still marked: the ring is read on from there, whatever base
            // the front end gave (after a back end died, QEMU gives the used index, which would pop these again)
            lastAvail = (usedIdx + resubmit.length) & 0xffff;
        }
        if (resubmit.length > 0) {
            LOG.info("{} queue {}: submitting {} requests again that were in flight before; the ring goes on at {}",
                    name, index, resubmit.length, lastAvail);
        }
        started = true;
        if (polled) {
            kicksEnabled = false;
            suppressKicks();
        } else {
            enableKicks();
        }
        return null;
    }

    /** A new memory table while the queue runs: the rings are read through it from now on. Null, or why not. */
    public String remap(GuestMemory mem) {
        if (!started) {
            return null;
        }
        publishEnded(); // through the old table, which is still mapped
        return mapRings(mem);
    }

    private String mapRings(GuestMemory mem) {
        MemorySegment d = mem.userRange(descAddr, SplitRing.descTableBytes(size));
        MemorySegment a = mem.userRange(availAddr, SplitRing.availBytes(size));
        MemorySegment u = mem.userRange(usedAddr, SplitRing.usedBytes(size));
        if (d == null || a == null || u == null) {
            return "queue " + index + "'s rings do not lie in guest memory";
        }
        if (d.address() % SplitRing.DESC_ALIGN != 0 || a.address() % SplitRing.AVAIL_ALIGN != 0
                || u.address() % SplitRing.USED_ALIGN != 0) {
            return "queue " + index + "'s rings are misaligned";
        }
        memory = mem;
        desc = d;
        avail = a;
        used = u;
        return null;
    }

    /** GET_VRING_BASE: no more requests are taken; those in flight still complete into the used ring. */
    public void stop() {
        started = false;
        publishEnded(); // the front end reads the rings next
    }

    /**
     * Lets go of the rings and the memory table (after a stop, once the requests drained, or given up on): completions
     * of requests still in flight no longer touch the rings.
     */
    public void detach() {
        started = false;
        publishEnded();
        generation++;
        memory = null;
        desc = null;
        avail = null;
        used = null;
        inflight = null;
        callPending = false;
    }

    /** Requests handed to the handler and not completed yet. */
    public int inFlight() {
        return inFlight;
    }

    long generation() {
        return generation;
    }

    // ---- the data path ----

    /**
     * Takes up to {@code budget} available requests to {@code handler}: how many it took. A queue polled continuously
     * looks at the available index once per call (the driver writes that line all the time: every look costs a miss
     * on another core); one that waits for kicks drains it before asking for kicks again.
     */
    public int poll(VirtqueueHandler handler, int budget) {
        if (!started || !enabled) {
            return 0;
        }
        int work = 0;
        while (resubmitNext < resubmit.length && work < budget) {
            deliver(resubmit[resubmitNext++], handler);
            work++;
        }
        while (work < budget && started) {
            if (polled) {
                touchNextSlot();
            }
            int pending = ((short) U16.getAcquire(avail, RING_IDX) - lastAvail) & 0xffff;
            if (pending == 0) {
                if (kicksEnabled || polled || !enableKicks()) {
                    break;
                }
                continue;
            }
            if (pending > size) {
                LOG.error("{} queue {}: the available index ran {} ahead of {} (queue size {}): queue stopped", name,
                        index, pending, lastAvail, size);
                started = false;
                break;
            }
            if (kicksEnabled) {
                disableKicks();
            }
            int n = Math.min(pending, budget - work);
            for (int i = 0; i < n; i++) {
                int head = avail.get(SHORT_U, AVAIL_RING + 2L * (lastAvail & (size - 1))) & 0xffff;
                lastAvail = (lastAvail + 1) & 0xffff;
                deliver(head, handler);
            }
            work += n;
            if (polled && eventIdx && ((availEvent - lastAvail) & 0xffff) < KICK_GUARD) {
                suppressKicks(); // avail_event moves with the ring, always far ahead
            }
            if (polled) {
                break; // one look at the index per poll: the driver writes it meanwhile, so a second look is a miss
            }
        }
        return work;
    }

    /**
     * Reads the available ring's slot the driver fills next, before the index (the value is not used: the slot is read
     * again once the index says it is filled). The driver writes the slot, then the index; without this the slot's
     * line was fetched only after the index showed the request, a second cross-core miss in a row, ~130 ns of each
     * request's ~600 ns on the target at queue depth one. Read together, the two misses overlap.
     */
    private void touchNextSlot() {
        nextSlotSink = avail.get(SHORT_U, AVAIL_RING + 2L * (lastAvail & (size - 1)));
    }

    /**
     * Whether the queue's thread polls it continuously (set before {@link #start}): then the driver is told never to
     * kick (VRING_USED_F_NO_NOTIFY, or with event-idx an avail_event kept half the index space ahead), as SPDK's
     * poll-mode vhost does: a kick would cost the driver a syscall per request and the reactor an eventfd read.
     */
    public void polled(boolean continuously) {
        polled = continuously;
    }

    private void suppressKicks() {
        if (eventIdx) {
            availEvent = (lastAvail + 0x8000) & 0xffff;
            used.set(SHORT_U, SplitRing.availEventOffset(size), (short) availEvent);
        } else {
            used.set(SHORT_U, RING_FLAGS, (short) (used.get(SHORT_U, RING_FLAGS) | USED_F_NO_NOTIFY));
        }
    }

    /** Asks the driver for kicks again and looks once more: whether requests arrived meanwhile. */
    private boolean enableKicks() {
        kicksEnabled = true;
        if (eventIdx) {
            used.set(SHORT_U, SplitRing.availEventOffset(size), (short) lastAvail);
        } else {
            used.set(SHORT_U, RING_FLAGS, (short) (used.get(SHORT_U, RING_FLAGS) & ~USED_F_NO_NOTIFY));
        }
        VarHandle.fullFence();
        return ((short) U16.getAcquire(avail, RING_IDX) & 0xffff) != lastAvail;
    }

    private void disableKicks() {
        kicksEnabled = false;
        if (!eventIdx) {
            used.set(SHORT_U, RING_FLAGS, (short) (used.get(SHORT_U, RING_FLAGS) | USED_F_NO_NOTIFY));
        }
    }

    private void deliver(int head, VirtqueueHandler handler) {
        if (head >= size) {
            refused(head, "the available ring names a head out of range");
            return;
        }
        VirtqueueRequest r = requests[head];
        if (r.inFlight) {
            refused(head, "the available ring names a head already in flight");
            return;
        }
        String refused = ChainWalker.walk(desc, size, head, memory, indirect, r);
        if (refused != null) {
            r.forgetSegments();
            refused(head, refused);
            writeUsed(head, 0);
            publishUsedIndex(); // rare: at once
            return;
        }
        r.inFlight = true;
        r.generation = generation;
        r.memory = memory;
        memory.acquire();
        inFlight++;
        popped++;
        if (inflight != null) {
            inflight.popped(head);
        }
        handler.onRequest(this, r);
    }

    /** Logs a refused chain: the first ones, then every power of two, so a hostile guest cannot flood the log. */
    private void refused(int head, String why) {
        badChains++;
        if ((badChains & (badChains - 1)) == 0) {
            LOG.warn("{} queue {}: request {} refused: {} ({} refused so far)", name, index, head, why, badChains);
        }
    }

    /**
     * A request ended (its status byte and used length are in it). It reaches guest memory at the end of this round
     * of the thread, by the queue's message to itself ({@link #publishEnded}), with every other request that ended in
     * the round — not here, at the bottom of the bdev layer's completion chain: that deep, C2 runs out of inlining
     * depth inside FFM's stores and each one pays a call (benchmarks.md, "How C2 compiled the completion path"). The
     * exception is a request alone in flight (queue depth one), written at once: the driver waits for that one alone
     * (an immediate move was worth ~10 % at QD1 across cores). The request stays in flight until written, so its head
     * cannot be taken again before.
     */
    void complete(VirtqueueRequest r) {
        if (endedCount == ended.length) {
            ended = Arrays.copyOf(ended, ended.length * 2 + 1); // a restarted, smaller ring with old requests out
        }
        ended[endedCount++] = r;
        if (inFlight == 1) {
            publishEnded();
        } else if (!publishScheduled) {
            publishScheduled = true;
            KeelThread t = KeelThread.current();
            if (t == null || !t.send(PUBLISH_ENDED, this)) {
                publishAtRoundEnd(); // no round to end: at once
            }
        }
    }

    /** Writes what ended into guest memory and moves the used index past it. */
    private void publishEnded() {
        flushEnded();
        publishUsedIndex();
    }

    /** Writes the requests that ended since the last flush into guest memory (status byte, used element). */
    private void flushEnded() {
        for (int i = 0; i < endedCount; i++) {
            VirtqueueRequest r = ended[i]; // the slot keeps it: one of the queue's own requests, no barrier store
            completedInInterval++;
            r.ended = false;
            r.inFlight = false;
            inFlight--;
            if (r.generation == generation && used != null) {
                r.writeStatus();
                writeUsed(r.head(), r.usedLength);
            }
            GuestMemory m = r.memory;
            r.memory = null;
            r.forgetSegments();
            m.release(callState);
        }
        endedCount = 0;
    }

    /** Writes the next used element (the index moves later, {@link #publishUsedIndex}). */
    private void writeUsed(int head, int length) {
        long at = USED_RING + USED_ELEM_BYTES * (usedIdx & (size - 1));
        used.set(INT_U, at, head);
        used.set(INT_U, at + 4, length);
        usedIdx = (usedIdx + 1) & 0xffff;
    }

    /**
     * Moves the ring's used index past every element written since the last move; with an inflight region, then
     * unmarks their heads and records the index (a back end that dies in between finds the heads between the
     * recorded index and the ring's in the used ring, {@link InflightRing#pending}).
     */
    private void publishUsedIndex() {
        if (used == null || publishedUsed == usedIdx) {
            return;
        }
        U16.setRelease(used, RING_IDX, (short) usedIdx);
        if (inflight != null) {
            for (int i = publishedUsed; i != usedIdx; i = (i + 1) & 0xffff) {
                inflight.completed(usedHead(i));
            }
            inflight.usedIndex(usedIdx);
        }
        publishedUsed = usedIdx;
        callPending = true;
    }

    /** The round's message: one per round, however many requests ended in it. */
    private void publishAtRoundEnd() {
        publishScheduled = false;
        publishEnded();
    }

    /** The head in the used ring's element for used index {@code i}. */
    private int usedHead(int i) {
        return used.get(INT_U, USED_RING + USED_ELEM_BYTES * (i & (size - 1)));
    }

    /**
     * Calls the driver if it asked for it since the last call (event-idx: used_event crossed; otherwise no
     * VRING_AVAIL_F_NO_INTERRUPT): 1 if it called. Run after each batch of completions.
     */
    public int signalIfNeeded() {
        publishEnded();
        if (!callPending || used == null) {
            return 0;
        }
        callPending = false;
        VarHandle.fullFence(); // the used index is visible before we read what the driver wants
        boolean wanted = eventIdx
                ? SplitRing.needEvent(avail.get(SHORT_U, SplitRing.usedEventOffset(size)) & 0xffff, usedIdx,
                        signalledUsed)
                : (avail.get(SHORT_U, RING_FLAGS) & AVAIL_F_NO_INTERRUPT) == 0;
        signalledUsed = usedIdx;
        if (!wanted || callFd < 0) {
            return 0;
        }
        EventFd.write(callFd, 1, countBuffer, callState);
        calls++;
        return 1;
    }

    /** How often the request rate is measured to set the call delay (SPDK's stats check interval). */
    public static final long COALESCING_INTERVAL_NANOS = 10_000_000L;

    /**
     * Interrupt coalescing, as SPDK's {@code vhost_controller_set_coalescing}: when more than {@code iopsThreshold}
     * requests a second completed over the last interval, calls to the driver are spaced by
     * {@code delayBaseNanos * (rate - threshold) / threshold}; a {@code delayBaseNanos} of 0 turns it off.
     */
    public void coalescing(long delayBaseNanos, int iopsThreshold) {
        this.delayBaseNanos = delayBaseNanos;
        this.ioThreshold = (int) Math.max(1, (long) iopsThreshold * COALESCING_INTERVAL_NANOS / 1_000_000_000L);
        callDelayNanos = 0;
    }

    /**
     * {@link #signalIfNeeded} with coalescing: while the rate is above the threshold, at most one call per call
     * delay; a call held back stays pending for the next look ({@link #callHeldBack}). 1 if it called.
     */
    public int signalIfDue(long nowNanos) {
        if (delayBaseNanos > 0 && nowNanos - intervalStartNanos >= COALESCING_INTERVAL_NANOS) {
            int n = completedInInterval;
            completedInInterval = 0;
            intervalStartNanos = nowNanos;
            callDelayNanos = n <= ioThreshold ? 0 : delayBaseNanos * (n - ioThreshold) / ioThreshold;
        }
        if (callDelayNanos > 0 && callPending) {
            if (nowNanos - nextCallNanos < 0) {
                return 0;
            }
            nextCallNanos = nowNanos + callDelayNanos;
        }
        return signalIfNeeded();
    }

    /** Whether completions wait for a call that coalescing held back. */
    public boolean callHeldBack() {
        return callPending && callDelayNanos > 0;
    }

    /** Requests handed to the handler since the queue was made. */
    public long popped() {
        return popped;
    }

    /** Chains refused (malformed, outside guest memory). */
    public long badChains() {
        return badChains;
    }

    /** Calls written to the call eventfd. */
    public long calls() {
        return calls;
    }
}
