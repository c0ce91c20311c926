package io.keel.nvme.host.rdma;

import io.keel.nvme.spec.SglDescriptor;
import io.keel.nvme.spec.Sqe;

/**
 * The data descriptor of a command sent over RDMA (NVMe-oF 1.1 §7.3.1): PSDT SGL, and in SGL1 either in-capsule
 * data (a data block at offset 0 of the capsule's data), or a keyed data block naming registered host memory the
 * controller reads (writes) or writes (reads) with RDMA, or an empty keyed block for commands without data.
 */
final class RdmaSgl {
    static final int ID_KEYED = SglDescriptor.TYPE_KEYED_DATA_BLOCK << 4 | SglDescriptor.SUBTYPE_ADDRESS;
    /** The largest length a keyed data block carries (24 bits). */
    static final int MAX_KEYED_LENGTH = (1 << 24) - 1;

    private RdmaSgl() {
    }

    /** {@code length} bytes of write data follow the SQE in the capsule. */
    static void inCapsule(Sqe s, int length) {
        s.psdt(Sqe.PSDT_SGL_MPTR_CONTIGUOUS);
        s.sgl().clear().address(0).length(length).identifier(SglDescriptor.ID_IN_CAPSULE);
    }

    /** The data is {@code length} bytes at {@code address}, which the controller reaches with {@code rkey}. */
    static void keyed(Sqe s, long address, int length, int rkey) {
        if (length < 0 || length > MAX_KEYED_LENGTH) {
            throw new IllegalArgumentException("keyed length " + length + " out of 0.." + MAX_KEYED_LENGTH);
        }
        s.psdt(Sqe.PSDT_SGL_MPTR_CONTIGUOUS);
        SglDescriptor d = s.sgl().clear();
        d.address(address);
        d.keyedLength(length);
        d.key(rkey);
        d.identifier(ID_KEYED);
    }

    /** No data: an empty keyed data block, as hosts send. */
    static void none(Sqe s) {
        keyed(s, 0, 0, 0);
    }
}
