package io.keel.nvme.rdma;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class RdmaCmPrivateDataTest {
    private final byte[] raw = new byte[RdmaCmPrivateData.REQUEST_SIZE];
    private final RdmaCmPrivateData pd = new RdmaCmPrivateData().wrap(MemorySegment.ofArray(raw));

    @Test
    void aConnectRequestIsLittleEndianAtTheSpecsOffsets() {
        pd.recfmt(0).qid(3).hrqsize(128).hsqsize(127).cntlid(0x1234);
        assertThat(raw).startsWith(0, 0, 3, 0, (byte) 128, 0, 127, 0, 0x34, 0x12);
        assertThat(pd.qid()).isEqualTo(3);
        assertThat(pd.hrqsize()).isEqualTo(128);
        assertThat(pd.hsqsize()).isEqualTo(127);
        assertThat(pd.cntlid()).isEqualTo(0x1234);
    }

    @Test
    void anAcceptCarriesCrqsizeAndARejectItsStatus() {
        raw[2] = (byte) 0x80;
        raw[3] = 0x01;
        assertThat(pd.crqsize()).isEqualTo(0x180);
        raw[2] = RdmaCmPrivateData.STS_INVALID_HSQSIZE;
        raw[3] = 0;
        assertThat(pd.sts()).isEqualTo(4);
        assertThat(RdmaCmPrivateData.describeStatus(pd.sts())).isEqualTo("invalid HSQSIZE");
        assertThat(RdmaCmPrivateData.describeStatus(0x42)).isEqualTo("status 0x42");
    }
}
