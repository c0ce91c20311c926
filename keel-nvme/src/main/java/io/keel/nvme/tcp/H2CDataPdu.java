package io.keel.nvme.tcp;

import java.lang.foreign.MemorySegment;

/** H2CData (host to controller, answers an R2T); flags: HDGSTF, DDGSTF, LAST_PDU. */
public final class H2CDataPdu extends DataPdu {
    @Override
    public H2CDataPdu wrap(MemorySegment segment, long offset) {
        super.wrap(segment, offset);
        return this;
    }
}
