package io.keel.nvmf.rdma;

import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The private data of the RDMA CM messages that make an NVMe-oF queue (NVMe-oF 1.1, RDMA transport binding): the
 * host's request (RECFMT, QID, HRQSIZE, HSQSIZE, CNTLID; 32 bytes), the controller's accept (RECFMT, CRQSIZE) and
 * reject (RECFMT, STS). Little-endian 16-bit fields over a caller's buffer; nothing is kept.
 */
public final class RdmaPrivateData {
    /** Bytes of each message's private data. */
    public static final int SIZE = 32;
    /** The only record format defined. */
    public static final int RECFMT = 0;

    // reject statuses (STS)
    public static final int INVALID_PRIVATE_DATA_LENGTH = 1;
    public static final int INVALID_RECFMT = 2;
    public static final int INVALID_QID = 3;
    public static final int INVALID_HSQSIZE = 4;
    public static final int INVALID_HRQSIZE = 5;
    public static final int NO_RESOURCES = 6;
    public static final int INVALID_IRD = 7;
    public static final int INVALID_ORD = 8;

    private static final java.lang.foreign.ValueLayout.OfShort LE = JAVA_SHORT_UNALIGNED.withOrder(
            ByteOrder.LITTLE_ENDIAN);

    private RdmaPrivateData() {
    }

    /** A host's connect request, decoded. */
    public record Request(int recfmt, int qid, int hrqsize, int hsqsize, int cntlid) {
    }

    /** Decodes a request's private data, or null when {@code length} is too short to hold it. */
    public static Request request(MemorySegment data, int length) {
        if (length < SIZE) {
            return null;
        }
        return new Request(u16(data, 0), u16(data, 2), u16(data, 4), u16(data, 6), u16(data, 8));
    }

    /** Writes a request (the host's side, and tests); returns its length. */
    public static int writeRequest(MemorySegment into, int qid, int hrqsize, int hsqsize, int cntlid) {
        into.asSlice(0, SIZE).fill((byte) 0);
        u16(into, 0, RECFMT);
        u16(into, 2, qid);
        u16(into, 4, hrqsize);
        u16(into, 6, hsqsize);
        u16(into, 8, cntlid);
        return SIZE;
    }

    /** Writes the accept: the controller posts {@code crqsize} receives for the queue. Returns its length. */
    public static int writeAccept(MemorySegment into, int crqsize) {
        into.asSlice(0, SIZE).fill((byte) 0);
        u16(into, 0, RECFMT);
        u16(into, 2, crqsize);
        return SIZE;
    }

    /** The CRQSIZE of an accept. */
    public static int crqsize(MemorySegment accept) {
        return u16(accept, 2);
    }

    /** Writes a reject with status {@code sts}. Returns its length. */
    public static int writeReject(MemorySegment into, int sts) {
        into.asSlice(0, SIZE).fill((byte) 0);
        u16(into, 0, RECFMT);
        u16(into, 2, sts);
        return SIZE;
    }

    /** The STS of a reject. */
    public static int rejectStatus(MemorySegment reject) {
        return u16(reject, 2);
    }

    /** What a reject status means, for log lines. */
    public static String statusText(int sts) {
        return switch (sts) {
            case INVALID_PRIVATE_DATA_LENGTH -> "invalid private data length";
            case INVALID_RECFMT -> "invalid RECFMT";
            case INVALID_QID -> "invalid QID";
            case INVALID_HSQSIZE -> "invalid HSQSIZE";
            case INVALID_HRQSIZE -> "invalid HRQSIZE";
            case NO_RESOURCES -> "no resources";
            case INVALID_IRD -> "invalid IRD";
            case INVALID_ORD -> "invalid ORD";
            default -> "status " + sts;
        };
    }

    private static int u16(MemorySegment s, long at) {
        return Short.toUnsignedInt(s.get(LE, at));
    }

    private static void u16(MemorySegment s, long at, int v) {
        s.set(LE, at, (short) v);
    }
}
