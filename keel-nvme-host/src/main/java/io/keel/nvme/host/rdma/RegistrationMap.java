package io.keel.nvme.host.rdma;

import java.util.Arrays;

/**
 * Which memory a protection domain has registered, and with which keys (SPDK's RDMA memory map): disjoint address
 * ranges sorted by start, each with its memory region's local and remote key. Immutable: a change makes a new map,
 * which its {@link RdmaDomain} publishes for every thread to read without a lock. {@link #find} is a binary search
 * that allocates nothing.
 */
final class RegistrationMap {
    /**
     * One registered range {@code [start, end)}; {@code owner} is what it stands for (a memory region), to remove it
     * by.
     */
    record Entry(long start, long end, int lkey, int rkey, Object owner) {
    }

    static final RegistrationMap EMPTY = new RegistrationMap(new Entry[0]);

    private final Entry[] entries;

    private RegistrationMap(Entry[] entries) {
        this.entries = entries;
    }

    int size() {
        return entries.length;
    }

    /**
     * The entry holding all of {@code [address, address + length)}, or null when no one registered range does (not
     * registered, or straddling two ranges).
     */
    Entry find(long address, long length) {
        int lo = 0;
        int hi = entries.length - 1;
        while (lo <= hi) { // hi ends at the last entry starting at or before address
            int mid = (lo + hi) >>> 1;
            if (entries[mid].start <= address) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (hi < 0 || length < 0 || address + length < address || address + length > entries[hi].end) {
            return null;
        }
        return entries[hi];
    }

    /**
     * This map with {@code [start, start + length)} registered under {@code owner}.
     *
     * @throws IllegalArgumentException when it is empty or overlaps a registered range
     */
    RegistrationMap with(long start, long length, int lkey, int rkey, Object owner) {
        if (length <= 0) {
            throw new IllegalArgumentException("empty range at 0x" + Long.toHexString(start));
        }
        int at = 0;
        while (at < entries.length && entries[at].start < start) {
            at++;
        }
        if ((at > 0 && entries[at - 1].end > start) || (at < entries.length && entries[at].start < start + length)) {
            throw new IllegalArgumentException("range at 0x" + Long.toHexString(start) + " (" + length
                    + " bytes) overlaps a registered one");
        }
        Entry[] next = new Entry[entries.length + 1];
        System.arraycopy(entries, 0, next, 0, at);
        next[at] = new Entry(start, start + length, lkey, rkey, owner);
        System.arraycopy(entries, at, next, at + 1, entries.length - at);
        return new RegistrationMap(next);
    }

    /** This map without the entry of {@code owner}; this same map when it has none. */
    RegistrationMap without(Object owner) {
        for (int i = 0; i < entries.length; i++) {
            if (entries[i].owner == owner) {
                Entry[] next = Arrays.copyOf(entries, entries.length - 1);
                System.arraycopy(entries, i + 1, next, i, entries.length - i - 1);
                return new RegistrationMap(next);
            }
        }
        return this;
    }
}
