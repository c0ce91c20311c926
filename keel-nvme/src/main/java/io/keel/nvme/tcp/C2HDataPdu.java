package io.keel.nvme.tcp;

import java.lang.foreign.MemorySegment;

/** C2HData (controller to host); flags: HDGSTF, DDGSTF, LAST_PDU, SUCCESS. */
public final class C2HDataPdu extends DataPdu {
    @Override
    public C2HDataPdu wrap(MemorySegment segment, long offset) {
        super.wrap(segment, offset);
        return this;
    }

    /** SUCCESS: the command completed and no CapsuleResp follows. */
    public boolean success() {
        return (flags() & FLAG_SUCCESS) != 0;
    }
}
