package io.keel.nvmf.rdma;

import io.keel.nvmf.TransportOptions;

/**
 * Judges a host's RDMA CM connect request by its NVMe-oF private data before anything is made for it: a status
 * for the reject ({@link RdmaPrivateData}'s STS), or 0 to accept. The Fabrics Connect that follows is judged by the
 * controller logic as on any transport.
 */
final class ConnectRequestCheck {
    private ConnectRequestCheck() {
    }

    /** 0, or the reject status for {@code r} (null: the private data was too short) under {@code o}. */
    static int status(RdmaPrivateData.Request r, TransportOptions o) {
        if (r == null) {
            return RdmaPrivateData.INVALID_PRIVATE_DATA_LENGTH;
        }
        if (r.recfmt() != RdmaPrivateData.RECFMT) {
            return RdmaPrivateData.INVALID_RECFMT;
        }
        if (r.qid() > o.maxIoQpairsPerCtrlr()) {
            return RdmaPrivateData.INVALID_QID;
        }
        long max = r.qid() == 0 ? o.maxAqDepth() : o.maxQueueDepth();
        if (r.hsqsize() < 1 || r.hsqsize() + 1L > max) {
            return RdmaPrivateData.INVALID_HSQSIZE; // 0's based: a queue has 2 to max entries
        }
        if (r.hrqsize() < 1) {
            return RdmaPrivateData.INVALID_HRQSIZE;
        }
        return 0;
    }

    /** Why, for the log line of a reject. */
    static String reason(RdmaPrivateData.Request r, int status, TransportOptions o) {
        if (r == null) {
            return RdmaPrivateData.statusText(status) + " (less than " + RdmaPrivateData.SIZE + " bytes)";
        }
        return RdmaPrivateData.statusText(status) + " (RECFMT " + r.recfmt() + ", QID " + r.qid() + ", HSQSIZE "
                + r.hsqsize() + ", HRQSIZE " + r.hrqsize() + "; max_queue_depth " + o.maxQueueDepth()
                + ", max_aq_depth " + o.maxAqDepth() + ", max_io_qpairs_per_ctrlr " + o.maxIoQpairsPerCtrlr() + ")";
    }
}
