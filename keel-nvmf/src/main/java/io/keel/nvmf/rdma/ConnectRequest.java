package io.keel.nvmf.rdma;

import io.keel.nvme.rdma.RdmaCmPrivateData;
import java.lang.foreign.MemorySegment;

/**
 * A host's RDMA CM connect request for an NVMe-oF queue: its private data ({@link RdmaCmPrivateData}) and the RDMA
 * READ resources of its connection parameters, as the CONNECT_REQUEST reports them from the target's side.
 *
 * @param responderResources RDMA READs the host wants to have outstanding against the target (NVMe-oF hosts ask for
 *                           none: the target moves all data)
 * @param initiatorDepth     RDMA READs the host lets the target have outstanding against it (its responder resources)
 */
record ConnectRequest(int recfmt, int qid, int hrqsize, int hsqsize, int cntlid, int responderResources,
        int initiatorDepth) {
    /**
     * Decodes {@code length} bytes of private data (RoCE pads them) with the event's READ resources, or null when too
     * short to hold a request.
     */
    static ConnectRequest decode(MemorySegment data, int length, int responderResources, int initiatorDepth) {
        if (length < RdmaCmPrivateData.REQUEST_SIZE) {
            return null;
        }
        RdmaCmPrivateData p = new RdmaCmPrivateData().wrap(data);
        return new ConnectRequest(p.recfmt(), p.qid(), p.hrqsize(), p.hsqsize(), p.cntlid(), responderResources,
                initiatorDepth);
    }
}
