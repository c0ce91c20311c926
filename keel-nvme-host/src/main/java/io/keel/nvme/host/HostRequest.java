package io.keel.nvme.host;

import io.keel.nvme.spec.Sqe;
import java.lang.foreign.MemorySegment;

/**
 * One command on a {@link HostQpair}, from the qpair's bounded pool ({@link HostQpair#allocate}): the caller
 * fills the SQE (opcode, NSID, command dwords; the qpair sets the command ID and the data descriptor) and the
 * data segments, then {@link HostQpair#submit}s it. The qpair takes it back after the completion callback
 * returns. Owner thread only; nothing here is allocated per command.
 */
public final class HostRequest {
    /** Most data segments one command carries (a bdev_io's). */
    public static final int MAX_SEGMENTS = 32;

    final int cid;
    private final MemorySegment sqeBytes;
    private final Sqe sqe = new Sqe();
    private final MemorySegment[] segments = new MemorySegment[MAX_SEGMENTS];
    private final long[] offsets = new long[MAX_SEGMENTS];
    private final long[] lengths = new long[MAX_SEGMENTS];
    private int count;
    private long length;
    private boolean toController;

    HostCompletion callback;
    Object arg;
    /** Pool and pending-list link. */
    HostRequest next;
    boolean allocated;
    /** On the wire (counted against the queue depth) rather than waiting in the pending list. */
    boolean sent;
    long submittedNanos;
    /** How many times this command was found past the qpair's timeout (0: not yet). */
    int expiries;
    /** Exempt from the qpair's command timeout (Asynchronous Event Requests wait for as long as they must). */
    boolean noTimeout;

    HostRequest(int cid, MemorySegment sqeBytes) {
        this.cid = cid;
        this.sqeBytes = sqeBytes;
        sqe.wrap(sqeBytes, 0);
    }

    void reset() {
        sqe.clear();
        count = 0;
        length = 0;
        toController = false;
        callback = null;
        arg = null;
        next = null;
        sent = false;
        expiries = 0;
        noTimeout = false;
    }

    /** The command to fill (cleared when allocated). */
    public Sqe sqe() {
        return sqe;
    }

    /** The SQE's 64 bytes, for transports. */
    public MemorySegment sqeBytes() {
        return sqeBytes;
    }

    public int cid() {
        return cid;
    }

    /** Exempts this command from the qpair's command timeout (an Asynchronous Event Request). */
    public HostRequest noTimeout() {
        noTimeout = true;
        return this;
    }

    /** Data moves host to controller (a write) rather than into the segments (a read). */
    public HostRequest toController(boolean v) {
        toController = v;
        return this;
    }

    public boolean toController() {
        return toController;
    }

    /** Appends {@code len} bytes at {@code seg[off]} to the command's data. */
    public HostRequest segment(MemorySegment seg, long off, long len) {
        if (count == MAX_SEGMENTS) {
            throw new IllegalArgumentException("more than " + MAX_SEGMENTS + " data segments");
        }
        segments[count] = seg;
        offsets[count] = off;
        lengths[count++] = len;
        length += len;
        return this;
    }

    public int segmentCount() {
        return count;
    }

    public MemorySegment segment(int i) {
        return segments[i];
    }

    public long segmentOffset(int i) {
        return offsets[i];
    }

    public long segmentLength(int i) {
        return lengths[i];
    }

    /** Total data bytes. */
    public long length() {
        return length;
    }

    /**
     * The address of the data when it is one run of native memory (its segments native and each following the one
     * before it directly), which a device can be pointed at instead of copying; -1 otherwise, and when there is no
     * data.
     */
    public long contiguousAddress() {
        if (count == 0 || !segments[0].isNative()) {
            return -1;
        }
        long start = segments[0].address() + offsets[0];
        long next = start + lengths[0];
        for (int i = 1; i < count; i++) {
            if (!segments[i].isNative() || segments[i].address() + offsets[i] != next) {
                return -1;
            }
            next += lengths[i];
        }
        return start;
    }

    /** Copies {@code n} data bytes from data offset {@code from} into {@code dst[dstOff]} (gathering writes). */
    public void copyOut(long from, MemorySegment dst, long dstOff, long n) {
        int i = 0;
        while (n > 0) {
            if (from >= lengths[i]) {
                from -= lengths[i++];
                continue;
            }
            long c = Math.min(n, lengths[i] - from);
            MemorySegment.copy(segments[i], offsets[i] + from, dst, dstOff, c);
            dstOff += c;
            n -= c;
            from = 0;
            i++;
        }
    }

    /** Copies {@code n} bytes from {@code src[srcOff]} into the data at data offset {@code to} (scattering reads). */
    public void copyIn(MemorySegment src, long srcOff, long to, long n) {
        int i = 0;
        while (n > 0) {
            if (to >= lengths[i]) {
                to -= lengths[i++];
                continue;
            }
            long c = Math.min(n, lengths[i] - to);
            MemorySegment.copy(src, srcOff, segments[i], offsets[i] + to, c);
            srcOff += c;
            n -= c;
            to = 0;
            i++;
        }
    }
}
