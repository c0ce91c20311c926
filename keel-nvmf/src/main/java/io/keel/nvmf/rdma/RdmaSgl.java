package io.keel.nvmf.rdma;

import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.SglDescriptor;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;

/**
 * Where a command received over RDMA has its data, decoded from the SQE's SGL descriptor (NVMe-oF 1.1, RDMA
 * transport binding): none; in the capsule (a data block descriptor, offset subtype, its address the offset into
 * the in-capsule data); or in host memory behind a keyed data block descriptor (address, 24-bit length, key; the
 * invalidate subtype asks for the key back with SEND_WITH_INVALIDATE). One per request, reused.
 */
public final class RdmaSgl {
    /** Where the data is. */
    public enum Kind { NONE, IN_CAPSULE, KEYED }

    private Kind kind = Kind.NONE;
    private boolean hostToController;
    private long length;
    private long offset;
    private long remoteAddress;
    private int key;
    private boolean invalidate;

    public Kind kind() {
        return kind;
    }

    /** Whether the data goes from the host to the controller (a write); else to the host (a read), if any. */
    public boolean hostToController() {
        return hostToController;
    }

    public long length() {
        return length;
    }

    /** In-capsule data: where the command's data starts in the capsule's data. */
    public long offset() {
        return offset;
    }

    public long remoteAddress() {
        return remoteAddress;
    }

    public int key() {
        return key;
    }

    /** Whether the response goes with SEND_WITH_INVALIDATE of {@link #key}. */
    public boolean invalidate() {
        return invalidate;
    }

    /**
     * Decodes {@code sqe}'s descriptor for a capsule that brought {@code capsuleData} bytes after the SQE, against a
     * queue whose capsules hold at most {@code inCapsuleLimit} bytes of data and a transport moving at most
     * {@code maxTransfer} bytes per command. Returns 0, or the CQE status field (DNR set) that fails the command.
     */
    public int decode(Sqe sqe, long capsuleData, long inCapsuleLimit, long maxTransfer) {
        kind = Kind.NONE;
        length = 0;
        offset = 0;
        remoteAddress = 0;
        key = 0;
        invalidate = false;
        int opc = sqe.opcode();
        int bits = (opc == Opcode.FABRICS ? sqe.fabrics().fctype() : opc) & 0x3;
        if (bits == 0x3) {
            return Status.field(Status.INVALID_FIELD, true); // bidirectional: not supported
        }
        hostToController = bits == 1;
        SglDescriptor sgl = sqe.sgl();
        int type = sgl.type();
        int subtype = sgl.subtype();
        if (type == SglDescriptor.TYPE_KEYED_DATA_BLOCK
                && (subtype == SglDescriptor.SUBTYPE_ADDRESS || subtype == SglDescriptor.SUBTYPE_INVALIDATE_KEY)) {
            long n = sgl.keyedLength();
            if (bits == 0 || n == 0) {
                return 0; // no data: a key sent along is not used
            }
            if (n > maxTransfer) {
                return Status.field(Status.DATA_SGL_LENGTH_INVALID, true);
            }
            kind = Kind.KEYED;
            length = n;
            remoteAddress = sgl.address();
            key = sgl.key();
            invalidate = subtype == SglDescriptor.SUBTYPE_INVALIDATE_KEY;
            return 0;
        }
        if (type == SglDescriptor.TYPE_DATA_BLOCK && subtype == SglDescriptor.SUBTYPE_OFFSET) {
            long n = sgl.length();
            if (bits == 0 || n == 0) {
                return 0;
            }
            if (!hostToController) {
                return Status.field(Status.SGL_DESCRIPTOR_TYPE_INVALID, true); // a read's data never comes in a capsule
            }
            long at = sgl.address();
            if (at < 0 || at > inCapsuleLimit) {
                return Status.field(Status.SGL_OFFSET_INVALID, true);
            }
            if (n > inCapsuleLimit - at || n > capsuleData - at) {
                return Status.field(Status.DATA_SGL_LENGTH_INVALID, true);
            }
            kind = Kind.IN_CAPSULE;
            length = n;
            offset = at;
            return 0;
        }
        return Status.field(Status.SGL_DESCRIPTOR_TYPE_INVALID, true);
    }
}
