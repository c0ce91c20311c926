package io.keel.nvmf.ctrlr;

import io.keel.nvme.spec.DiscoveryLog;
import io.keel.nvmf.NvmfSubsystem;
import java.util.List;
import java.util.Locale;

/** A listener of a subsystem as the Discovery log page reports it (SPDK's {@code listen_address}). */
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
        return switch (trtype.toUpperCase(Locale.ROOT)) {
            case "RDMA" -> DiscoveryLog.TRTYPE_RDMA;
            case "FC" -> DiscoveryLog.TRTYPE_FC;
            case "LOOP" -> DiscoveryLog.TRTYPE_LOOP;
            default -> DiscoveryLog.TRTYPE_TCP;
        };
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
