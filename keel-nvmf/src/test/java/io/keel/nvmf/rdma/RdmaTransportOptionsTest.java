package io.keel.nvmf.rdma;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.rpc.Json;
import io.keel.nvmf.TransportOptions;
import org.junit.jupiter.api.Test;

/** RDMA's defaults as SPDK's nvmf_rdma_opts_init sets them, and RDMA's own options as nvmf_rdma_dump_opts writes. */
class RdmaTransportOptionsTest {
    @Test
    void theDefaultsAreSpdksRdmaDefaults() {
        TransportOptions d = RdmaTransportOptions.DEFAULTS;
        assertThat(d.trtype()).isEqualTo("RDMA");
        assertThat(d.maxQueueDepth()).isEqualTo(128);
        assertThat(d.maxIoQpairsPerCtrlr()).isEqualTo(127);
        assertThat(d.inCapsuleDataSize()).isEqualTo(4096);
        assertThat(d.maxIoSize()).isEqualTo(131072);
        assertThat(d.maxAqDepth()).isEqualTo(128);
        assertThat(d.numSharedBuffers()).isEqualTo(4095);
        assertThat(d.dataWrPoolSize()).isEqualTo(4095);
        assertThat(d.abortTimeoutSec()).isEqualTo(1);
        RdmaTransportOptions r = (RdmaTransportOptions) d.specific();
        assertThat(r).isEqualTo(new RdmaTransportOptions(4096, false, 4096, 100, false));
    }

    @Test
    void rdmasOwnOptionsAreWrittenWhereSpdkWritesThem() {
        ObjectNode o = Json.object();
        RdmaTransportOptions.RDMA_DEFAULTS.describe(RdmaTransportOptions.DEFAULTS, o);
        assertThat(o.toString()).isEqualTo(
                "{\"max_srq_depth\":4096,\"no_srq\":false,\"acceptor_backlog\":100,\"no_wr_batching\":false}");
        ObjectNode noSrq = Json.object();
        new RdmaTransportOptions(4096, true, 1024, 100, true).describe(RdmaTransportOptions.DEFAULTS, noSrq);
        assertThat(noSrq.get("num_cqe").asInt()).as("num_cqe only with no_srq").isEqualTo(1024);
        assertThat(noSrq.get("no_wr_batching").asBoolean()).isTrue();
    }

    @Test
    void rdmasLimitsAreChecked() {
        RdmaTransportOptions r = RdmaTransportOptions.RDMA_DEFAULTS;
        assertThat(r.problem(RdmaTransportOptions.DEFAULTS)).isNull();
        assertThat(new RdmaTransportOptions(0, false, 4096, 100, false).problem(RdmaTransportOptions.DEFAULTS))
                .contains("max_srq_depth");
        assertThat(new RdmaTransportOptions(4096, true, 0, 100, false).problem(RdmaTransportOptions.DEFAULTS))
                .contains("num_cqe");
    }

    @Test
    void maxIoSizeGoesUpToSixteenDataBuffers() {
        RdmaTransportOptions r = RdmaTransportOptions.RDMA_DEFAULTS;
        assertThat(r.problem(withMaxIoSize(1 << 20))).isNull();
        assertThat(r.problem(withMaxIoSize(2 << 20))).isNull();
        assertThat(r.problem(withMaxIoSize(4 << 20))).contains("Unsupported max_io_size specified, 4194304 bytes")
                .contains("16 data buffers of 131072 bytes");
    }

    private static TransportOptions withMaxIoSize(long n) {
        TransportOptions d = RdmaTransportOptions.DEFAULTS;
        return new TransportOptions(d.trtype(), d.maxQueueDepth(), d.maxIoQpairsPerCtrlr(), d.inCapsuleDataSize(), n,
                d.maxAqDepth(), d.iobufSmallCacheSize(), d.iobufLargeCacheSize(), d.difInsertOrStrip(), d.zcopy(),
                d.c2hSuccess(), d.sockPriority(), d.abortTimeoutSec(), d.ackTimeout(), d.dataWrPoolSize(),
                d.disableCommandPassthru(), d.kas(), d.minKato(), d.controlMsgNum(), d.acceptorPollRate(),
                d.numSharedBuffers(), d.keelQueueMemoryMb(), d.specific());
    }
}
