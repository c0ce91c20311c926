package io.keel.rdma;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.keel.core.mem.NativeArena;
import io.keel.core.sys.Libc;
import java.lang.foreign.MemorySegment;

/**
 * A reusable array of {@code struct ibv_wc} that {@link CompletionQueue#poll} fills from its start: read entry
 * {@code i < n} through the accessors. Status and opcode values are {@code RdmaAbi.IBV_WC_*}. One owner thread.
 */
public final class WorkCompletions implements AutoCloseable {
    private final NativeArena arena = new NativeArena();
    private final MemorySegment wcs;
    private final int capacity;

    public WorkCompletions(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
        this.wcs = arena.allocate(RdmaAbi.WC_BYTES * capacity, 8);
    }

    public int capacity() {
        return capacity;
    }

    MemorySegment segment() {
        return wcs;
    }

    /** The id of the work request this completes. */
    public long id(int i) {
        return wcs.get(JAVA_LONG, at(i) + RdmaAbi.WC_ID);
    }

    /** {@code IBV_WC_SUCCESS} or the error; after an error only id, status and vendor error are valid. */
    public int status(int i) {
        return wcs.get(JAVA_INT, at(i) + RdmaAbi.WC_STATUS);
    }

    public int opcode(int i) {
        return wcs.get(JAVA_INT, at(i) + RdmaAbi.WC_OPCODE);
    }

    public int vendorError(int i) {
        return wcs.get(JAVA_INT, at(i) + RdmaAbi.WC_VENDOR_ERR);
    }

    /** Bytes received (receives and RDMA READ). */
    public int byteLength(int i) {
        return wcs.get(JAVA_INT, at(i) + RdmaAbi.WC_BYTE_LEN);
    }

    /** Immediate data, or the invalidated rkey, as {@link #flags} says. */
    public int immediate(int i) {
        return wcs.get(JAVA_INT, at(i) + RdmaAbi.WC_IMM_DATA);
    }

    public int queuePairNumber(int i) {
        return wcs.get(JAVA_INT, at(i) + RdmaAbi.WC_QP_NUM);
    }

    /** {@code IBV_WC_WITH_IMM}, {@code IBV_WC_WITH_INV}. */
    public int flags(int i) {
        return wcs.get(JAVA_INT, at(i) + RdmaAbi.WC_FLAGS);
    }

    /** libibverbs' words for a status, e.g. "transport retry counter exceeded" (control path: allocates). */
    public static String statusText(int status) {
        try {
            MemorySegment s = (MemorySegment) RdmaNative.IBV_WC_STATUS_STR.invokeExact(status);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    private long at(int i) {
        if (i < 0 || i >= capacity) {
            throw new IndexOutOfBoundsException("completion " + i + " of " + capacity);
        }
        return i * RdmaAbi.WC_BYTES;
    }

    @Override
    public void close() {
        arena.close(); // idempotent
    }
}
