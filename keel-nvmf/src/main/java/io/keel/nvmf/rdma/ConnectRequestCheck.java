package io.keel.nvmf.rdma;

import io.keel.nvme.rdma.RdmaCmPrivateData;
import io.keel.nvmf.TransportOptions;
import io.keel.rdma.DeviceAttributes;

/**
 * Judges a host's RDMA CM connect request by its NVMe-oF private data and READ resources before anything is made for
 * it: a status for the reject ({@link RdmaCmPrivateData}'s STS), or 0 to accept; and how many RDMA READs the accepted
 * qpair may have outstanding ({@link #readDepth}). The Fabrics Connect that follows is judged by the controller logic
 * as on any transport.
 */
final class ConnectRequestCheck {
    private ConnectRequestCheck() {
    }

    /** 0, or the reject status for {@code r} (null: the private data was too short) under {@code o}. */
    static int status(ConnectRequest r, TransportOptions o) {
        if (r == null) {
            return RdmaCmPrivateData.STS_INVALID_PRIVATE_DATA_LENGTH;
        }
        if (r.recfmt() != 0) {
            return RdmaCmPrivateData.STS_INVALID_RECFMT;
        }
        if (r.initiatorDepth() == 0) {
            return RdmaCmPrivateData.STS_INVALID_IRD; // the host allows no RDMA READ: writes could never move
        }
        if (r.qid() > o.maxIoQpairsPerCtrlr()) {
            return RdmaCmPrivateData.STS_INVALID_QID;
        }
        long max = r.qid() == 0 ? o.maxAqDepth() : o.maxQueueDepth();
        if (r.hsqsize() < 1 || r.hsqsize() + 1L > max) {
            return RdmaCmPrivateData.STS_INVALID_HSQSIZE; // 0's based: a queue has 2 to max entries
        }
        if (r.hrqsize() < 1) {
            return RdmaCmPrivateData.STS_INVALID_HRQSIZE;
        }
        return 0;
    }

    /**
     * The RDMA READs an accepted qpair may have outstanding against the host, offered as the accept's initiator
     * depth: what the host allows ({@link ConnectRequest#initiatorDepth}), within the device's
     * {@code max_qp_init_rd_atom} and {@code max_queue_depth} (as SPDK). 0 when the device allows none.
     */
    static int readDepth(ConnectRequest r, TransportOptions o, DeviceAttributes device) {
        return (int) Math.min(Math.min(r.initiatorDepth(), device.maxQpInitRdAtom()), o.maxQueueDepth());
    }

    /** Why, for the log line of a reject. */
    static String reason(ConnectRequest r, int status, TransportOptions o) {
        if (r == null) {
            return RdmaCmPrivateData.describeStatus(status) + " (less than " + RdmaCmPrivateData.REQUEST_SIZE + " bytes)";
        }
        return RdmaCmPrivateData.describeStatus(status) + " (RECFMT " + r.recfmt() + ", QID " + r.qid() + ", HSQSIZE "
                + r.hsqsize() + ", HRQSIZE " + r.hrqsize() + ", initiator depth " + r.initiatorDepth()
                + "; max_queue_depth " + o.maxQueueDepth()
                + ", max_aq_depth " + o.maxAqDepth() + ", max_io_qpairs_per_ctrlr " + o.maxIoQpairsPerCtrlr() + ")";
    }
}
