package io.keel.nvmf.rdma;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.nvmf.TransportOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The RDMA CM private data of NVMe-oF queues, byte for byte as the RDMA transport binding lays it out (16-bit
 * little-endian fields, 32 bytes), and how a connect request is judged: accepted, or rejected with the status that
 * names what is wrong.
 */
class RdmaPrivateDataTest {
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
        RdmaPrivateData.Request r = RdmaPrivateData.request(buf, 32);
        assertThat(r).isEqualTo(new RdmaPrivateData.Request(0, 3, 128, 127, 0x0201));
        assertThat(RdmaPrivateData.request(buf, 31)).as("too short").isNull();
        assertThat(RdmaPrivateData.request(buf, 56)).as("RoCE pads it to 56 bytes").isEqualTo(r);
    }

    @Test
    void theAcceptAndRejectCarryTheirFieldsAndZeroesElsewhere() {
        buf.fill((byte) 0x5a);
        assertThat(RdmaPrivateData.writeAccept(buf, 128)).isEqualTo(32);
        assertThat(buf.get(ValueLayout.JAVA_BYTE, 2)).isEqualTo((byte) 0x80);
        assertThat(RdmaPrivateData.crqsize(buf)).isEqualTo(128);
        assertThat(buf.asSlice(4, 28).toArray(ValueLayout.JAVA_BYTE)).containsOnly(0);
        assertThat(buf.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0)).as("RECFMT 0").isZero();
        RdmaPrivateData.writeReject(buf, RdmaPrivateData.INVALID_HSQSIZE);
        assertThat(RdmaPrivateData.rejectStatus(buf)).isEqualTo(4);
        assertThat(buf.get(ValueLayout.JAVA_BYTE, 2)).isEqualTo((byte) 4);
    }

    @Test
    void whatTheKernelInitiatorSendsIsAccepted() {
        // admin queue: 32 entries; I/O queue: 128 (Linux's defaults)
        assertThat(ConnectRequestCheck.status(new RdmaPrivateData.Request(0, 0, 32, 31, 0), RDMA)).isZero();
        assertThat(ConnectRequestCheck.status(new RdmaPrivateData.Request(0, 1, 128, 127, 1), RDMA)).isZero();
        RdmaPrivateData.writeRequest(buf, 2, 128, 127, 1);
        assertThat(ConnectRequestCheck.status(RdmaPrivateData.request(buf, 32), RDMA)).isZero();
    }

    @Test
    void badParametersAreRejectedWithTheSpecsStatus() {
        assertThat(ConnectRequestCheck.status(null, RDMA)).isEqualTo(RdmaPrivateData.INVALID_PRIVATE_DATA_LENGTH);
        assertThat(ConnectRequestCheck.status(new RdmaPrivateData.Request(1, 0, 32, 31, 0), RDMA))
                .isEqualTo(RdmaPrivateData.INVALID_RECFMT);
        assertThat(ConnectRequestCheck.status(new RdmaPrivateData.Request(0, 128, 32, 31, 0), RDMA))
                .as("max_io_qpairs_per_ctrlr 127").isEqualTo(RdmaPrivateData.INVALID_QID);
        assertThat(ConnectRequestCheck.status(new RdmaPrivateData.Request(0, 1, 256, 255, 0), RDMA))
                .as("max_queue_depth 128").isEqualTo(RdmaPrivateData.INVALID_HSQSIZE);
        assertThat(ConnectRequestCheck.status(new RdmaPrivateData.Request(0, 1, 1, 0, 0), RDMA))
                .as("a queue of one entry").isEqualTo(RdmaPrivateData.INVALID_HSQSIZE);
        assertThat(ConnectRequestCheck.status(new RdmaPrivateData.Request(0, 1, 0, 31, 0), RDMA))
                .isEqualTo(RdmaPrivateData.INVALID_HRQSIZE);
        assertThat(ConnectRequestCheck.reason(new RdmaPrivateData.Request(0, 1, 256, 255, 0),
                RdmaPrivateData.INVALID_HSQSIZE, RDMA)).contains("invalid HSQSIZE", "HSQSIZE 255",
                "max_queue_depth 128");
    }
}
