package io.keel.vhost.user;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A vhost-user message as a flyweight over a buffer: the 12-byte header ({@code u32 request, u32 flags, u32 size})
 * and the payloads Keel reads and writes, each at its offset in the payload (vhost-user.rst, "Message types"):
 * a u64; a vring state ({@code u32 index, u32 num}); a vring address ({@code u32 index, u32 flags, u64 descriptor,
 * u64 used, u64 available, u64 log}); a vring fd index ({@code u64}: bits 0-7 the index, bit 8 "no fd").
 * Multi-field payloads of their own are {@link MemoryTablePayload}, {@link ConfigPayload} and {@link InflightPayload}.
 */
public final class VhostUserMessage {
    public static final int HEADER_BYTES = 12;
    /** A bigger payload is refused (QEMU's largest, GET_CONFIG's, is 268 bytes). */
    public static final int MAX_PAYLOAD_BYTES = 4096;
    public static final int VERSION = 0x1;
    public static final int VERSION_MASK = 0x3;
    public static final int FLAG_REPLY = 0x4;
    public static final int FLAG_NEED_REPLY = 0x8;
    /** Most fds one message carries (SET_MEM_TABLE: one per region). */
    public static final int MAX_FDS = 8;

    public static final int U64_BYTES = 8;
    public static final int VRING_STATE_BYTES = 8;
    public static final int VRING_ADDR_BYTES = 40;
    public static final long VRING_INDEX_MASK = 0xff;
    public static final long VRING_NOFD = 0x100;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private final MemorySegment buffer;
    private final MemorySegment payload;

    public VhostUserMessage(MemorySegment buffer) {
        this.buffer = buffer;
        this.payload = buffer.asSlice(HEADER_BYTES);
    }

    public MemorySegment buffer() {
        return buffer;
    }

    /** The payload's bytes (from the header's end, as big as the buffer allows). */
    public MemorySegment payload() {
        return payload;
    }

    public int request() {
        return buffer.get(U32, 0);
    }

    public int flags() {
        return buffer.get(U32, 4);
    }

    public int size() {
        return buffer.get(U32, 8);
    }

    public boolean needReply() {
        return (flags() & FLAG_NEED_REPLY) != 0;
    }

    /** Writes a request header (the front end's side): {@code flags} beyond the version, e.g. {@link #FLAG_NEED_REPLY}. */
    public void requestHeader(int request, int flags, int size) {
        buffer.set(U32, 0, request);
        buffer.set(U32, 4, VERSION | flags);
        buffer.set(U32, 8, size);
    }

    public boolean isReply() {
        return (flags() & FLAG_REPLY) != 0;
    }

    /** Writes a reply header to {@code request} with a payload of {@code size} bytes. */
    public void replyHeader(int request, int size) {
        buffer.set(U32, 0, request);
        buffer.set(U32, 4, VERSION | FLAG_REPLY);
        buffer.set(U32, 8, size);
    }

    public long u64() {
        return buffer.get(U64, HEADER_BYTES);
    }

    public void u64(long value) {
        buffer.set(U64, HEADER_BYTES, value);
    }

    public int vringIndex() {
        return buffer.get(U32, HEADER_BYTES);
    }

    public int vringNum() {
        return buffer.get(U32, HEADER_BYTES + 4);
    }

    public void vringState(int index, int num) {
        buffer.set(U32, HEADER_BYTES, index);
        buffer.set(U32, HEADER_BYTES + 4, num);
    }

    /** Writes a vring address payload (the front end's side); no dirty log. */
    public void vringAddr(int index, long desc, long used, long avail) {
        buffer.set(U32, HEADER_BYTES, index);
        buffer.set(U32, HEADER_BYTES + 4, 0);
        buffer.set(U64, HEADER_BYTES + 8, desc);
        buffer.set(U64, HEADER_BYTES + 16, used);
        buffer.set(U64, HEADER_BYTES + 24, avail);
        buffer.set(U64, HEADER_BYTES + 32, 0);
    }

    public int vringAddrFlags() {
        return buffer.get(U32, HEADER_BYTES + 4);
    }

    public long vringDescAddr() {
        return buffer.get(U64, HEADER_BYTES + 8);
    }

    public long vringUsedAddr() {
        return buffer.get(U64, HEADER_BYTES + 16);
    }

    public long vringAvailAddr() {
        return buffer.get(U64, HEADER_BYTES + 24);
    }

    public long vringLogAddr() {
        return buffer.get(U64, HEADER_BYTES + 32);
    }
}
