package io.keel.nvmf.ctrlr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.nvme.spec.DiscoveryLog;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** A listener's transport fills its Discovery log entry's TRTYPE, TREQ and TSAS as SPDK's transports do. */
class ListenAddressTest {
    private static DiscoveryLog.Entry entryFor(ListenAddress a) {
        MemorySegment page = MemorySegment.ofArray(new byte[(int) DiscoveryLog.pageSize(1)]);
        DiscoveryLog.Entry e = new DiscoveryLog.Entry();
        new DiscoveryLog().wrap(page).entry(e, 0);
        e.trtype(a.trtypeCode());
        a.describeTransport(e);
        return e;
    }

    @Test
    void tcpAndRdmaEntriesCarryTheirOwnTransportFields() {
        DiscoveryLog.Entry tcp = entryFor(new ListenAddress("TCP", "IPv4", "127.0.0.1", "4420"));
        assertThat(tcp.trtype()).isEqualTo(DiscoveryLog.TRTYPE_TCP);
        assertThat(tcp.treq()).isEqualTo(DiscoveryLog.TREQ_SECURE_NOT_REQUIRED);
        assertThat(tcp.tcpSectype()).isEqualTo(DiscoveryLog.TCP_SECTYPE_NONE);

        DiscoveryLog.Entry rdma = entryFor(new ListenAddress("RDMA", "IPv4", "10.0.0.1", "4420"));
        assertThat(rdma.trtype()).isEqualTo(DiscoveryLog.TRTYPE_RDMA);
        assertThat(rdma.treq()).isEqualTo(DiscoveryLog.TREQ_SECURE_NOT_REQUIRED);
        assertThat(new int[] {rdma.tsas(0), rdma.tsas(1), rdma.tsas(2)}).containsExactly(
                DiscoveryLog.RDMA_QPTYPE_RELIABLE_CONNECTED, DiscoveryLog.RDMA_PRTYPE_NONE,
                DiscoveryLog.RDMA_CMS_RDMA_CM);
    }

    @Test
    void aTransportKeelHasNotIsNotReadAsTcp() {
        ListenAddress fc = new ListenAddress("FC", "FC", "nn-0x1:pn-0x2", "none");
        assertThatThrownBy(fc::trtypeCode).isInstanceOf(IllegalStateException.class).hasMessageContaining("FC");
    }
}
