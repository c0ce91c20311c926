package io.keel.nvmf.rdma;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.nvme.rdma.RdmaCmPrivateData;
import io.keel.nvmf.TransportOptions;
import io.keel.rdma.DeviceAttributes;
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
        ConnectRequest r = ConnectRequest.decode(buf, 32, 0, 128);
        assertThat(r).isEqualTo(request(0, 3, 128, 127, 0x0201));
        assertThat(ConnectRequest.decode(buf, 31, 0, 128)).as("too short").isNull();
        assertThat(ConnectRequest.decode(buf, 56, 0, 128)).as("RoCE pads it to 56 bytes").isEqualTo(r);
    }

    @Test
    void whatTheKernelInitiatorSendsIsAccepted() {
        // admin queue: 32 entries; I/O queue: 128 (Linux's defaults)
        assertThat(ConnectRequestCheck.status(request(0, 0, 32, 31, 0), RDMA)).isZero();
        assertThat(ConnectRequestCheck.status(request(0, 1, 128, 127, 1), RDMA)).isZero();
        new RdmaCmPrivateData().wrap(buf).clear().recfmt(0).qid(2).hrqsize(128).hsqsize(127).cntlid(1);
        assertThat(ConnectRequestCheck.status(ConnectRequest.decode(buf, 32, 0, 128), RDMA)).isZero();
    }

    @Test
    void badParametersAreRejectedWithTheSpecsStatus() {
        assertThat(ConnectRequestCheck.status(null, RDMA)).isEqualTo(RdmaCmPrivateData.STS_INVALID_PRIVATE_DATA_LENGTH);
        assertThat(ConnectRequestCheck.status(request(1, 0, 32, 31, 0), RDMA))
                .isEqualTo(RdmaCmPrivateData.STS_INVALID_RECFMT);
        assertThat(ConnectRequestCheck.status(request(0, 128, 32, 31, 0), RDMA))
                .as("max_io_qpairs_per_ctrlr 127").isEqualTo(RdmaCmPrivateData.STS_INVALID_QID);
        assertThat(ConnectRequestCheck.status(request(0, 1, 256, 255, 0), RDMA))
                .as("max_queue_depth 128").isEqualTo(RdmaCmPrivateData.STS_INVALID_HSQSIZE);
        assertThat(ConnectRequestCheck.status(request(0, 1, 1, 0, 0), RDMA))
                .as("a queue of one entry").isEqualTo(RdmaCmPrivateData.STS_INVALID_HSQSIZE);
        assertThat(ConnectRequestCheck.status(request(0, 1, 0, 31, 0), RDMA))
                .isEqualTo(RdmaCmPrivateData.STS_INVALID_HRQSIZE);
        assertThat(ConnectRequestCheck.reason(request(0, 1, 256, 255, 0),
                RdmaCmPrivateData.STS_INVALID_HSQSIZE, RDMA)).contains("invalid HSQSIZE", "HSQSIZE 255",
                "max_queue_depth 128");
    }

    @Test
    void aHostThatAllowsNoRdmaReadIsRejectedWithInvalidIrd() {
        ConnectRequest noReads = new ConnectRequest(0, 1, 128, 127, 1, 0, 0);
        assertThat(ConnectRequestCheck.status(noReads, RDMA)).isEqualTo(RdmaCmPrivateData.STS_INVALID_IRD);
        assertThat(ConnectRequestCheck.reason(noReads, RdmaCmPrivateData.STS_INVALID_IRD, RDMA))
                .contains("invalid IRD", "initiator depth 0");
    }

    @Test
    void theReadDepthIsTheLeastOfWhatTheHostAllowsTheDeviceAndMaxQueueDepth() {
        DeviceAttributes rxe = limits(128);
        assertThat(ConnectRequestCheck.readDepth(request(0, 1, 128, 127, 1), RDMA, rxe))
                .as("a kernel initiator on Soft-RoCE: its 128 within max_queue_depth 128").isEqualTo(128);
        assertThat(ConnectRequestCheck.readDepth(new ConnectRequest(0, 1, 128, 127, 1, 0, 16), RDMA, rxe))
                .as("the host allows 16").isEqualTo(16);
        assertThat(ConnectRequestCheck.readDepth(request(0, 1, 128, 127, 1), RDMA, limits(8)))
                .as("the device's max_qp_init_rd_atom").isEqualTo(8);
        assertThat(ConnectRequestCheck.readDepth(new ConnectRequest(0, 1, 128, 127, 1, 0, 255), RDMA, limits(255)))
                .as("max_queue_depth 128").isEqualTo(128);
        assertThat(ConnectRequestCheck.readDepth(request(0, 1, 128, 127, 1), RDMA, limits(0)))
                .as("a device without RDMA READ").isZero();
    }

    /** What a Linux initiator asks for: no READs against it, its device's max_qp_rd_atom (Soft-RoCE: 128) of ours. */
    private static ConnectRequest request(int recfmt, int qid, int hrqsize, int hsqsize, int cntlid) {
        return new ConnectRequest(recfmt, qid, hrqsize, hsqsize, cntlid, 0, 128);
    }

    private static DeviceAttributes limits(int maxQpInitRdAtom) {
        return new DeviceAttributes(1024, 16384, 32, 1024, 32767, 1024, 1024, 128, maxQpInitRdAtom, 1024, 16384, 27);
    }
}
