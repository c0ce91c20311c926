package io.keel.nvme.spec;

import static io.keel.nvme.spec.Bytes.le;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The discovery log SPDK v26.05 returned (shared/reference/spdk-nvme-identify-discovery.txt). */
class DiscoveryLogTest {

    @Test
    void buildsSpdksTwoRecordPage() {
        byte[] d = new byte[(int) DiscoveryLog.pageSize(2)];
        DiscoveryLog log = new DiscoveryLog().wrap(MemorySegment.ofArray(d)).genctr(2).numrec(2).recfmt(0);
        DiscoveryLog.Entry e = new DiscoveryLog.Entry();
        log.entry(e, 0).trtype(DiscoveryLog.TRTYPE_TCP).adrfam(DiscoveryLog.ADRFAM_IPV4)
                .subtype(DiscoveryLog.SUBTYPE_CURRENT_DISCOVERY).treq(DiscoveryLog.TREQ_SECURE_NOT_REQUIRED)
                .portid(0).cntlid(0xFFFF).asqsz(128)
                .eflags(DiscoveryLog.EFLAGS_DUPLICATE_RETURNED_INFO | DiscoveryLog.EFLAGS_EXPLICIT_PERSISTENT_CONNECTION)
                .trsvcid("4420").subnqn(DiscoveryLog.DISCOVERY_NQN).traddr("127.0.0.1")
                .tcpSectype(DiscoveryLog.TCP_SECTYPE_NONE);
        log.entry(e, 1).trtype(DiscoveryLog.TRTYPE_TCP).adrfam(DiscoveryLog.ADRFAM_IPV4)
                .subtype(DiscoveryLog.SUBTYPE_NVM).treq(DiscoveryLog.TREQ_SECURE_NOT_REQUIRED).portid(0)
                .cntlid(0xFFFF).asqsz(128).trsvcid("4420").subnqn("nqn.2016-06.io.spdk:cnode1")
                .traddr("127.0.0.1");

        assertThat(d).hasSize(3072);
        assertThat(le(d, 0, 8)).isEqualTo(2);
        assertThat(le(d, 8, 8)).isEqualTo(2);
        assertThat(le(d, 16, 2)).isZero();
        int e0 = 1024;
        assertThat(d[e0]).isEqualTo((byte) 3);
        assertThat(d[e0 + 1]).isEqualTo((byte) 1);
        assertThat(d[e0 + 2]).isEqualTo((byte) 3);
        assertThat(d[e0 + 3]).isEqualTo((byte) 2);
        assertThat(le(d, e0 + 4, 2)).isZero();
        assertThat(le(d, e0 + 6, 2)).isEqualTo(0xFFFF);
        assertThat(le(d, e0 + 8, 2)).isEqualTo(128);
        assertThat(le(d, e0 + 10, 2)).isEqualTo(3);
        assertThat(Bytes.ascii(d, e0 + 32, 32)).isEqualTo("4420" + " ".repeat(28));
        assertThat(Bytes.ascii(d, e0 + 256, 36)).isEqualTo(DiscoveryLog.DISCOVERY_NQN);
        assertThat(d[e0 + 256 + 36]).isZero();
        assertThat(Bytes.ascii(d, e0 + 512, 256)).isEqualTo("127.0.0.1" + " ".repeat(247));
        assertThat(d[e0 + 768]).isZero();
        int e1 = 2048;
        assertThat(d[e1 + 2]).isEqualTo((byte) 2);
        assertThat(le(d, e1 + 10, 2)).isZero();
        assertThat(Bytes.ascii(d, e1 + 256, 26)).isEqualTo("nqn.2016-06.io.spdk:cnode1");

        DiscoveryLog.Entry r = new DiscoveryLog.Entry();
        log.entry(r, 1);
        assertThat(r.trsvcid()).isEqualTo("4420");
        assertThat(r.traddr()).isEqualTo("127.0.0.1");
        assertThat(r.subnqn()).isEqualTo("nqn.2016-06.io.spdk:cnode1");
        assertThat(r.cntlid()).isEqualTo(0xFFFF);
        assertThat(log.numrec()).isEqualTo(2);
        assertThat(log.genctr()).isEqualTo(2);
    }

    @Test
    void rdmaTransportSpecificAddress() {
        byte[] d = new byte[1024];
        DiscoveryLog.Entry e = new DiscoveryLog.Entry().wrap(MemorySegment.ofArray(d)).rdma(1, 2, 1, 0xFFFF);
        assertThat(new byte[] {d[768], d[769], d[770]}).containsExactly(1, 2, 1);
        assertThat(le(d, 776, 2)).isEqualTo(0xFFFF);
        assertThat(e.tsas(2)).isEqualTo(1);
    }
}
