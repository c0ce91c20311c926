package io.keel.rdma;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.keel.core.mem.NativeArena;
import java.lang.foreign.MemorySegment;

/**
 * A fixed array of work requests in native memory, each with its own scatter/gather entries, allocated once and
 * reused: the data path fills slots and links them into a chain that one post hands to the provider, allocating
 * nothing. What the two kinds share: ids, gather lists, chaining, and finding the slot a provider stopped at. One
 * owner thread; {@link #close} frees it after the queue pair has finished with every posted request.
 */
public abstract sealed class WorkRequests implements AutoCloseable permits SendWorkRequests, RecvWorkRequests {
    private final NativeArena arena = new NativeArena();
    private final long wrBytes;
    private final long nextOffset;
    private final long numSgeOffset;
    private final int maxSge;
    final MemorySegment requests;
    private final MemorySegment sges;
    /** One segment per slot, made up front, so a post passes a slot's address without creating a segment. */
    private final MemorySegment[] slots;
    /** Where a failed post leaves the address of the first request it did not take. */
    final MemorySegment badRequest;

    WorkRequests(int count, int maxSge, long wrBytes, long idOffset, long nextOffset, long sgListOffset,
            long numSgeOffset) {
        if (count < 1 || maxSge < 1) {
            throw new IllegalArgumentException("count and maxSge must be positive: " + count + ", " + maxSge);
        }
        this.wrBytes = wrBytes;
        this.nextOffset = nextOffset;
        this.numSgeOffset = numSgeOffset;
        this.maxSge = maxSge;
        this.requests = arena.allocate(wrBytes * count, 8);
        this.sges = arena.allocate(RdmaAbi.SGE_BYTES * count * maxSge, 8);
        this.badRequest = arena.allocate(ADDRESS);
        this.slots = new MemorySegment[count];
        for (int i = 0; i < count; i++) {
            slots[i] = requests.asSlice(i * wrBytes, wrBytes);
            requests.set(ADDRESS, i * wrBytes + sgListOffset, sges.asSlice(i * maxSge * RdmaAbi.SGE_BYTES));
            requests.set(JAVA_LONG, i * wrBytes + idOffset, i);
        }
    }

    public int count() {
        return slots.length;
    }

    public int maxSge() {
        return maxSge;
    }

    /** The 64-bit id the completion of slot {@code i} carries back ({@link WorkCompletions#id}); initially {@code i}. */
    public void id(int i, long id) {
        requests.set(JAVA_LONG, offset(i), id);
    }

    /** Sets entry {@code j} of slot {@code i}'s gather (send) or scatter (receive) list. */
    public void sge(int i, int j, long address, int length, int lkey) {
        if (j >= maxSge) {
            throw new IndexOutOfBoundsException("sge " + j + " of " + maxSge);
        }
        long at = (i * (long) maxSge + j) * RdmaAbi.SGE_BYTES;
        sges.set(JAVA_LONG, at + RdmaAbi.SGE_ADDR, address);
        sges.set(JAVA_INT, at + RdmaAbi.SGE_LENGTH, length);
        sges.set(JAVA_INT, at + RdmaAbi.SGE_LKEY, lkey);
    }

    /** How many of slot {@code i}'s entries the provider reads. */
    public void sgeCount(int i, int n) {
        if (n < 0 || n > maxSge) {
            throw new IllegalArgumentException("sge count " + n + " of " + maxSge);
        }
        requests.set(JAVA_INT, offset(i) + numSgeOffset, n);
    }

    /** A one-entry list: slot {@code i} moves {@code length} bytes at {@code address} of {@code region}. */
    public void single(int i, MemoryRegion region, long address, int length) {
        sge(i, 0, address, length, region.lkey());
        sgeCount(i, 1);
    }

    /** Slot {@code next} follows slot {@code i} in the chain a post hands over. */
    public void link(int i, int next) {
        requests.set(ADDRESS, offset(i) + nextOffset, slots[next]);
    }

    /** Slot {@code i} ends its chain. */
    public void end(int i) {
        requests.set(ADDRESS, offset(i) + nextOffset, MemorySegment.NULL);
    }

    /** Links slots {@code first .. first+n-1} in order, the last ending the chain. */
    public void chain(int first, int n) {
        for (int i = first; i < first + n - 1; i++) {
            link(i, i + 1);
        }
        end(first + n - 1);
    }

    /** After a failed post: the slot of the first request the provider did not take, or -1 if it named none. */
    public int failedSlot() {
        long bad = badRequest.get(ADDRESS, 0).address();
        long base = requests.address();
        if (bad < base || bad >= base + requests.byteSize()) {
            return -1;
        }
        return (int) ((bad - base) / wrBytes);
    }

    MemorySegment slot(int i) {
        return slots[i];
    }

    long offset(int i) {
        if (i < 0 || i >= slots.length) {
            throw new IndexOutOfBoundsException("work request " + i + " of " + slots.length);
        }
        return i * wrBytes;
    }

    /** Frees the native memory; the caller makes sure the provider holds none of these requests. */
    @Override
    public void close() {
        arena.close(); // idempotent
    }
}
