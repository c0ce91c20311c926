package io.keel.bdev.raid;

/**
 * Splits one raid I/O into the pieces its members serve, one piece at a time: for each, the member, the address
 * on that member (relative to its data region), the number of blocks, and where the piece's data lies in the
 * raid I/O's buffer (in blocks from its start). For raid0 a piece never crosses a strip; for concat it never
 * crosses a member. Pieces come in the order of the raid's addresses.
 *
 * <pre>{@code
 * cursor.start(layout, offset, blocks);
 * while (cursor.next()) {
 *     submit(cursor.member(), cursor.memberLba(), cursor.blocks(), cursor.parentOffset());
 * }
 * }</pre>
 *
 * <p>Mutable and allocation-free: keep one per thread (or per raid channel) and reuse it for every I/O. Not for
 * sharing between threads.
 */
public final class PieceCursor {
    private StripedLayout layout;
    private long nextLba;
    private long remaining;
    private long nextParentOffset;

    private int member;
    private long memberLba;
    private long blocks;
    private long parentOffset;

    /**
     * Begins splitting the I/O of {@code blocks} blocks at the raid's block {@code offset}.
     *
     * @throws IllegalArgumentException if the range is empty or leaves the raid (the bdev layer never lets such
     *         an I/O through)
     */
    public PieceCursor start(StripedLayout layout, long offset, long blocks) {
        if (offset < 0 || blocks <= 0 || offset > layout.blockCount() - blocks) {
            throw new IllegalArgumentException("blocks [" + offset + ", +" + blocks + ") are not within the raid's "
                    + layout.blockCount());
        }
        this.layout = layout;
        this.nextLba = offset;
        this.remaining = blocks;
        this.nextParentOffset = 0;
        return this;
    }

    /** Moves to the next piece; false when the I/O has no more. */
    public boolean next() {
        if (remaining == 0) {
            return false;
        }
        layout.locate(nextLba, remaining, this);
        parentOffset = nextParentOffset;
        nextLba += blocks;
        nextParentOffset += blocks;
        remaining -= blocks;
        return true;
    }

    /** Set by the layout: where the piece at the cursor's next address lies. */
    void piece(int member, long memberLba, long blocks) {
        this.member = member;
        this.memberLba = memberLba;
        this.blocks = blocks;
    }

    /** The member (slot) that serves this piece. */
    public int member() {
        return member;
    }

    /** The piece's first block on the member, counted from the start of the member's data region. */
    public long memberLba() {
        return memberLba;
    }

    public long blocks() {
        return blocks;
    }

    /** Where the piece's data lies in the raid I/O's buffer, in blocks from its start. */
    public long parentOffset() {
        return parentOffset;
    }
}
