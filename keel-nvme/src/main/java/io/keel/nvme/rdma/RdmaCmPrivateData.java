package io.keel.nvme.rdma;

import io.keel.nvme.spec.Flyweight;

/**
 * The private data of NVMe-oF's RDMA CM messages (NVMe over Fabrics 1.1 §7.3.2, SPDK's
 * {@code spdk_nvmf_rdma_private_data}), one flyweight over the three layouts as the spec's union: all start with
 * RECFMT (0). The connect request carries QID, HRQSIZE (entries of the host's receive queue), HSQSIZE (the
 * submission queue's size, 0's based) and CNTLID in {@value #REQUEST_SIZE} bytes; the accept CRQSIZE in
 * {@value #ACCEPT_SIZE}; the reject a status ({@code STS_*}) in {@value #REJECT_SIZE}.
 */
public final class RdmaCmPrivateData extends Flyweight<RdmaCmPrivateData> {
    public static final int REQUEST_SIZE = 32;
    public static final int ACCEPT_SIZE = 32;
    public static final int REJECT_SIZE = 4;

    // reject statuses (NVMe-oF 1.1 figure 54)
    public static final int STS_INVALID_PRIVATE_DATA_LENGTH = 0x1;
    public static final int STS_INVALID_RECFMT = 0x2;
    public static final int STS_INVALID_QID = 0x3;
    public static final int STS_INVALID_HSQSIZE = 0x4;
    public static final int STS_INVALID_HRQSIZE = 0x5;
    public static final int STS_NO_RESOURCES = 0x6;
    public static final int STS_INVALID_IRD = 0x7;
    public static final int STS_INVALID_ORD = 0x8;

    @Override
    public int size() {
        return REQUEST_SIZE;
    }

    public int recfmt() {
        return u16(0);
    }

    public RdmaCmPrivateData recfmt(int v) {
        u16(0, v);
        return this;
    }

    // ---- connect request ----

    public int qid() {
        return u16(2);
    }

    public RdmaCmPrivateData qid(int v) {
        u16(2, v);
        return this;
    }

    public int hrqsize() {
        return u16(4);
    }

    public RdmaCmPrivateData hrqsize(int v) {
        u16(4, v);
        return this;
    }

    /** The submission queue's size, 0's based. */
    public int hsqsize() {
        return u16(6);
    }

    public RdmaCmPrivateData hsqsize(int v) {
        u16(6, v);
        return this;
    }

    public int cntlid() {
        return u16(8);
    }

    public RdmaCmPrivateData cntlid(int v) {
        u16(8, v);
        return this;
    }

    // ---- accept ----

    public int crqsize() {
        return u16(2);
    }

    public RdmaCmPrivateData crqsize(int v) {
        u16(2, v);
        return this;
    }

    // ---- reject ----

    public int sts() {
        return u16(2);
    }

    public RdmaCmPrivateData sts(int v) {
        u16(2, v);
        return this;
    }

    /** The words for a reject status (control path). */
    public static String describeStatus(int sts) {
        return switch (sts) {
            case STS_INVALID_PRIVATE_DATA_LENGTH -> "invalid private data length";
            case STS_INVALID_RECFMT -> "invalid RECFMT";
            case STS_INVALID_QID -> "invalid QID";
            case STS_INVALID_HSQSIZE -> "invalid HSQSIZE";
            case STS_INVALID_HRQSIZE -> "invalid HRQSIZE";
            case STS_NO_RESOURCES -> "no resources";
            case STS_INVALID_IRD -> "invalid IRD";
            case STS_INVALID_ORD -> "invalid ORD";
            default -> "status 0x" + Integer.toHexString(sts);
        };
    }
}
