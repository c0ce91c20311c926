package io.keel.nvmf.ctrlr;

import io.keel.nvme.spec.DiscoveryLog;
import io.keel.nvmf.NvmfSubsystem;
import java.util.List;
import java.util.Locale;

/**
 * A listener of a subsystem as the Discovery log page reports it (SPDK's {@code listen_address}); {@code trtype} is
 * upper case ("TCP", "RDMA") and names a transport the target runs (listeners are added only for those).
 */
public record ListenAddress(String trtype, String adrfam, String traddr, String trsvcid) {

    /** Where the Discovery log page learns each subsystem's listeners. */
    @FunctionalInterface
    public interface Source {
        /** The listeners of {@code subsystem} (the discovery subsystem included); empty when none. */
        List<ListenAddress> listeners(NvmfSubsystem subsystem);

        /** The Target keeps no listeners yet: every subsystem has none, so the Discovery log page is empty. */
        Source NONE = s -> List.of();
    }

    int trtypeCode() {
        return switch (trtype) {
            case "TCP" -> DiscoveryLog.TRTYPE_TCP;
            case "RDMA" -> DiscoveryLog.TRTYPE_RDMA;
            default -> throw new IllegalStateException("a listener of transport " + trtype + ", which Keel has not");
        };
    }

    /** The transport's part of a Discovery log entry (TREQ and TSAS), as SPDK's transports fill it. */
    void describeTransport(DiscoveryLog.Entry e) {
        e.treq(DiscoveryLog.TREQ_SECURE_NOT_REQUIRED);
        switch (trtype) {
            case "TCP" -> e.tcpSectype(DiscoveryLog.TCP_SECTYPE_NONE);
            case "RDMA" -> e.rdmaTsas(DiscoveryLog.RDMA_QPTYPE_RELIABLE_CONNECTED, DiscoveryLog.RDMA_PRTYPE_NONE,
                    DiscoveryLog.RDMA_CMS_RDMA_CM);
            default -> throw new IllegalStateException("a listener of transport " + trtype + ", which Keel has not");
        }
    }

    int adrfamCode() {
        return switch (adrfam.toUpperCase(Locale.ROOT)) {
            case "IPV6" -> DiscoveryLog.ADRFAM_IPV6;
            case "IB" -> DiscoveryLog.ADRFAM_IB;
            case "FC" -> DiscoveryLog.ADRFAM_FC;
            case "INTRA_HOST" -> DiscoveryLog.ADRFAM_INTRA_HOST;
            default -> DiscoveryLog.ADRFAM_IPV4;
        };
    }
}
