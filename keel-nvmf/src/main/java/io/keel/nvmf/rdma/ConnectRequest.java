package io.keel.nvmf.rdma;

import io.keel.nvme.rdma.RdmaCmPrivateData;
import java.lang.foreign.MemorySegment;

/** A host's RDMA CM connect request for an NVMe-oF queue, decoded from its private data ({@link RdmaCmPrivateData}). */
record ConnectRequest(int recfmt, int qid, int hrqsize, int hsqsize, int cntlid) {
    /** Decodes {@code length} bytes of private data (RoCE pads them), or null when too short to hold a request. */
    static ConnectRequest decode(MemorySegment data, int length) {
        if (length < RdmaCmPrivateData.REQUEST_SIZE) {
            return null;
        }
        RdmaCmPrivateData p = new RdmaCmPrivateData().wrap(data);
        return new ConnectRequest(p.recfmt(), p.qid(), p.hrqsize(), p.hsqsize(), p.cntlid());
    }
}
