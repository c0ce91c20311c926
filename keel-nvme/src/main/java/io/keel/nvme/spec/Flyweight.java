package io.keel.nvme.spec;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Base of every fixed-size NVMe structure: a reusable view over {@code size()} bytes of a
 * {@link MemorySegment} at an offset. Wrapping checks bounds once and allocates nothing, so one
 * instance per queue pair can be re-pointed at every command.
 */
public abstract class Flyweight<T extends Flyweight<T>> {
    protected MemorySegment segment;
    protected long offset;

    /** Size of the structure in bytes. */
    public abstract int size();

    @SuppressWarnings("unchecked")
    protected final T self() {
        return (T) this;
    }

    public T wrap(MemorySegment segment) {
        return wrap(segment, 0);
    }

    public T wrap(MemorySegment segment, long offset) {
        Objects.requireNonNull(segment, "segment");
        if (offset < 0 || segment.byteSize() - offset < size()) {
            throw new IndexOutOfBoundsException(getClass().getSimpleName() + " needs " + size()
                    + " bytes at " + offset + " of a " + segment.byteSize() + "-byte segment");
        }
        this.segment = segment;
        this.offset = offset;
        return self();
    }

    public MemorySegment segment() {
        return segment;
    }

    public long offset() {
        return offset;
    }

    /** Zeroes the whole structure. */
    public T clear() {
        Wire.zero(segment, offset, size());
        return self();
    }

    protected final int u8(int at) {
        return Wire.u8(segment, offset + at);
    }

    protected final void u8(int at, int v) {
        Wire.u8(segment, offset + at, v);
    }

    protected final int u16(int at) {
        return Wire.u16(segment, offset + at);
    }

    protected final void u16(int at, int v) {
        Wire.u16(segment, offset + at, v);
    }

    protected final int u32(int at) {
        return Wire.u32(segment, offset + at);
    }

    protected final long u32L(int at) {
        return Wire.u32L(segment, offset + at);
    }

    protected final void u32(int at, int v) {
        Wire.u32(segment, offset + at, v);
    }

    protected final long u64(int at) {
        return Wire.u64(segment, offset + at);
    }

    protected final void u64(int at, long v) {
        Wire.u64(segment, offset + at, v);
    }

    protected final String ascii(int at, int len) {
        return Wire.asciiPadded(segment, offset + at, len);
    }

    protected final void ascii(int at, int len, String v) {
        Wire.asciiPadded(segment, offset + at, len, v);
    }

    protected final String utf8z(int at, int len) {
        return Wire.utf8Z(segment, offset + at, len);
    }

    protected final void utf8z(int at, int len, String v) {
        Wire.utf8Z(segment, offset + at, len, v);
    }

    protected final byte[] bytes(int at, int len) {
        return Wire.bytes(segment, offset + at, len);
    }

    protected final void bytes(int at, int len, byte[] v) {
        Wire.bytes(segment, offset + at, len, v);
    }

    /** Writes a 128-bit little-endian counter at {@code at}: low half at {@code at}, high half at {@code at + 8}. */
    protected final void u128(int at, long lo, long hi) {
        u64(at, lo);
        u64(at + 8, hi);
    }
}
