package io.keel.nvmf.rdma;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.nvme.rdma.RdmaCmPrivateData;
import io.keel.nvmf.TransportOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A host's connect request decoded from the RDMA CM private data (the codec itself: keel-nvme's
 * RdmaCmPrivateDataTest), and how it is judged: accepted, or rejected with the status that names what is wrong.
 */
class ConnectRequestCheckTest {
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buf = arena.allocate(64);
    private static final TransportOptions RDMA = RdmaTransportOptions.DEFAULTS;

    @AfterEach
    void free() {
        arena.close();
    }

    @Test
    void aRequestIsDecodedFromTheWireLayout() {
        byte[] wire = new byte[32];
        wire[2] = 3; // QID 3
        wire[4] = (byte) 0x80; // HRQSIZE 128
        wire[6] = 0x7f; // HSQSIZE 127
        wire[8] = 0x01;
        wire[9] = 0x02; // CNTLID 0x0201
        MemorySegment.copy(MemorySegment.ofArray(wire), 0, buf, 0, 32);
        ConnectRequest r = ConnectRequest.decode(buf, 32);
        assertThat(r).isEqualTo(new ConnectRequest(0, 3, 128, 127, 0x0201));
        assertThat(ConnectRequest.decode(buf, 31)).as("too short").isNull();
        assertThat(ConnectRequest.decode(buf, 56)).as("RoCE pads it to 56 bytes").isEqualTo(r);
    }

    @Test
    void whatTheKernelInitiatorSendsIsAccepted() {
        // admin queue: 32 entries; I/O queue: 128 (Linux's defaults)
        assertThat(ConnectRequestCheck.status(new ConnectRequest(0, 0, 32, 31, 0), RDMA)).isZero();
        assertThat(ConnectRequestCheck.status(new ConnectRequest(0, 1, 128, 127, 1), RDMA)).isZero();
        new RdmaCmPrivateData().wrap(buf).clear().recfmt(0).qid(2).hrqsize(128).hsqsize(127).cntlid(1);
        assertThat(ConnectRequestCheck.status(ConnectRequest.decode(buf, 32), RDMA)).isZero();
    }

    @Test
    void badParametersAreRejectedWithTheSpecsStatus() {
        assertThat(ConnectRequestCheck.status(null, RDMA)).isEqualTo(RdmaCmPrivateData.STS_INVALID_PRIVATE_DATA_LENGTH);
        assertThat(ConnectRequestCheck.status(new ConnectRequest(1, 0, 32, 31, 0), RDMA))
                .isEqualTo(RdmaCmPrivateData.STS_INVALID_RECFMT);
        assertThat(ConnectRequestCheck.status(new ConnectRequest(0, 128, 32, 31, 0), RDMA))
                .as("max_io_qpairs_per_ctrlr 127").isEqualTo(RdmaCmPrivateData.STS_INVALID_QID);
        assertThat(ConnectRequestCheck.status(new ConnectRequest(0, 1, 256, 255, 0), RDMA))
                .as("max_queue_depth 128").isEqualTo(RdmaCmPrivateData.STS_INVALID_HSQSIZE);
        assertThat(ConnectRequestCheck.status(new ConnectRequest(0, 1, 1, 0, 0), RDMA))
                .as("a queue of one entry").isEqualTo(RdmaCmPrivateData.STS_INVALID_HSQSIZE);
        assertThat(ConnectRequestCheck.status(new ConnectRequest(0, 1, 0, 31, 0), RDMA))
                .isEqualTo(RdmaCmPrivateData.STS_INVALID_HRQSIZE);
        assertThat(ConnectRequestCheck.reason(new ConnectRequest(0, 1, 256, 255, 0),
                RdmaCmPrivateData.STS_INVALID_HSQSIZE, RDMA)).contains("invalid HSQSIZE", "HSQSIZE 255",
                "max_queue_depth 128");
    }
}
