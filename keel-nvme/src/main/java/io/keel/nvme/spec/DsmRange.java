package io.keel.nvme.spec;

/** A 16-byte Dataset Management range (NVM Command Set 1.0 figure 40): attributes, length in LBAs, starting LBA. */
public final class DsmRange extends Flyweight<DsmRange> {
    public static final int SIZE = 16;

    @Override
    public int size() {
        return SIZE;
    }

    public int contextAttributes() {
        return u32(0);
    }

    public DsmRange contextAttributes(int v) {
        u32(0, v);
        return this;
    }

    /** Length in logical blocks (1-based, unlike a command's NLB). */
    public long length() {
        return u32L(4);
    }

    public DsmRange length(long v) {
        u32(4, (int) v);
        return this;
    }

    public long slba() {
        return u64(8);
    }

    public DsmRange slba(long v) {
        u64(8, v);
        return this;
    }
}
