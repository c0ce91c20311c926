package io.keel.nvme.host;

import io.keel.core.mem.NativeArena;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The host's per-thread state (SPDK's {@code spdk_nvme_poll_group}): the qpairs owned by one lightweight thread
 * share its receive buffer (each consumes every byte it reads before the next read) and its counters. Made and
 * closed on its thread; the buffer is taken when the first qpair needs it and freed when the group closes.
 */
public final class HostPollGroup {
    static final int RECEIVE_BUFFER = 256 << 10;

    private final KeelThread thread;
    private NativeArena arena;
    private MemorySegment receive;
    private ByteBuffer receiveBuffer;
    private int qpairs;
    private boolean closed;
    /** What transports other than TCP keep per thread, in the order they were first used. */
    private final List<TransportPollGroup> transportGroups = new ArrayList<>(1);

    // counters, as bdev_nvme_get_transport_statistics reports them
    long polls;
    long idlePolls;
    long socketCompletions;
    long completions;
    long submitted;
    long queued;

    public HostPollGroup(KeelThread thread) {
        this.thread = thread;
    }

    public KeelThread thread() {
        return thread;
    }

    void added() {
        if (closed) {
            throw new IllegalStateException("poll group of " + thread.name() + " is closed");
        }
        qpairs++;
    }

    void removed() {
        qpairs--;
    }

    /** The receive buffer (made on first use). */
    public ByteBuffer receiveBuffer() {
        if (receiveBuffer == null) {
            arena = new NativeArena();
            receive = arena.allocate(RECEIVE_BUFFER, 4096);
            receiveBuffer = receive.asByteBuffer();
        }
        return receiveBuffer;
    }

    /** The same buffer as a segment. */
    public MemorySegment receiveSegment() {
        receiveBuffer();
        return receive;
    }

    /**
     * The per-thread state of {@code transport} ({@link TransportPollGroup#transportName}), made by {@code make}
     * on first use. Owner thread.
     */
    public <T extends TransportPollGroup> T transportGroup(String transport, Class<T> type,
            Function<HostPollGroup, T> make) {
        for (TransportPollGroup g : transportGroups) {
            if (g.transportName().equals(transport)) {
                return type.cast(g);
            }
        }
        if (closed) {
            throw new IllegalStateException("poll group of " + thread.name() + " is closed");
        }
        T g = make.apply(this);
        transportGroups.add(g);
        return g;
    }

    /** The transports' per-thread states made so far (for statistics). */
    public List<TransportPollGroup> transportGroups() {
        return List.copyOf(transportGroups);
    }

    /** Readiness events handled (the host reads a socket only when its reactor says it is ready). */
    public long polls() {
        return polls;
    }

    /** Readiness events that found nothing to read. */
    public long idlePolls() {
        return idlePolls;
    }

    /** Socket reads that returned data. */
    public long socketCompletions() {
        return socketCompletions;
    }

    /** Commands completed on this group's qpairs (also the aborted ones). */
    public long completions() {
        return completions;
    }

    public long submitted() {
        return submitted;
    }

    /** Commands that waited in a pending list (queue full or no send room). */
    public long queued() {
        return queued;
    }

    /** A socket read returned {@code n} bytes (0: nothing there). */
    public void countRead(int n) {
        if (n > 0) {
            socketCompletions++;
        }
    }

    /** A readiness event was handled; {@code idle}: it found nothing. */
    public void countPoll(boolean idle) {
        polls++;
        if (idle) {
            idlePolls++;
        }
    }

    /** Frees the receive buffer; every qpair must be closed. Idempotent. */
    public void close() {
        if (qpairs > 0) {
            throw new IllegalStateException(qpairs + " qpairs of poll group " + thread.name() + " still open");
        }
        closed = true;
        transportGroups.forEach(TransportPollGroup::close);
        transportGroups.clear();
        if (arena != null) {
            arena.close();
            arena = null;
            receive = null;
            receiveBuffer = null;
        }
    }
}
