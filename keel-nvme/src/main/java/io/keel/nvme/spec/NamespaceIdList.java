package io.keel.nvme.spec;

/**
 * A 4096-byte list of up to 1024 NSIDs in increasing order, zero-terminated: the Active Namespace
 * ID list (Identify CNS 02h) and the Changed Namespace List log page (LID 04h, where a first entry
 * of FFFFFFFFh means more than 1024 namespaces changed).
 */
public final class NamespaceIdList extends Flyweight<NamespaceIdList> {
    public static final int SIZE = 4096;
    public static final int CAPACITY = 1024;
    /** Changed Namespace List overflow marker. */
    public static final int OVERFLOW = 0xFFFF_FFFF;

    @Override
    public int size() {
        return SIZE;
    }

    public int nsid(int index) {
        return u32(at(index));
    }

    public NamespaceIdList nsid(int index, int nsid) {
        u32(at(index), nsid);
        return this;
    }

    /** Number of entries before the first zero. */
    public int count() {
        int n = 0;
        while (n < CAPACITY && u32(n * 4) != 0) {
            n++;
        }
        return n;
    }

    /**
     * Fills the list for Identify CNS 02h: clears it, then writes the NSIDs from {@code sorted}
     * greater than {@code afterNsid}, in order, up to 1024. {@code sorted} must be ascending.
     * Returns the number written.
     */
    public int fillActive(int[] sorted, int length, int afterNsid) {
        clear();
        int n = 0;
        for (int i = 0; i < length && n < CAPACITY; i++) {
            if (Integer.compareUnsigned(sorted[i], afterNsid) > 0) {
                u32(n++ * 4, sorted[i]);
            }
        }
        return n;
    }

    /** Fills the Changed Namespace List log: the NSIDs, or the overflow marker if more than 1024. */
    public NamespaceIdList fillChanged(int[] nsids, int length) {
        clear();
        if (length > CAPACITY) {
            u32(0, OVERFLOW);
            return this;
        }
        for (int i = 0; i < length; i++) {
            u32(i * 4, nsids[i]);
        }
        return this;
    }

    private static int at(int index) {
        if (index < 0 || index >= CAPACITY) {
            throw new IndexOutOfBoundsException("nsid index " + index);
        }
        return index * 4;
    }
}
