package io.keel.nvme.host;

import io.keel.nvme.spec.DiscoveryLog;
import java.util.List;

/**
 * A Discovery Log Page as a host read it whole and consistent ({@link DiscoveryLogReader}): its generation
 * counter and its entries, copied out of the wire format. Immutable.
 */
public record DiscoveryLogPage(long genctr, List<Entry> entries) {
    public DiscoveryLogPage {
        entries = List.copyOf(entries);
    }

    /**
     * One entry (NVMe-oF 1.1 figure 33). Two entries are equal when every field is: the host compares entries of
     * successive pages to tell what came and went, as SPDK compares them byte for byte. Of TSAS only the TCP
     * security type (byte 0) is kept, the only TSAS field NVMe/TCP defines.
     */
    public record Entry(int trtype, int adrfam, int subtype, int treq, int portid, int cntlid, int asqsz, int eflags,
            String trsvcid, String subnqn, String traddr, int tcpSectype) {

        static Entry of(DiscoveryLog.Entry e) {
            return new Entry(e.trtype(), e.adrfam(), e.subtype(), e.treq(), e.portid(), e.cntlid(), e.asqsz(),
                    e.eflags(), e.trsvcid(), e.subnqn(), e.traddr(), e.tcpSectype());
        }

        /** An NVM subsystem (rather than a discovery service). */
        public boolean isNvm() {
            return subtype == DiscoveryLog.SUBTYPE_NVM;
        }

        /** A discovery service: the one that answered (current) or a referral to another. */
        public boolean isDiscovery() {
            return subtype == DiscoveryLog.SUBTYPE_CURRENT_DISCOVERY
                    || subtype == DiscoveryLog.SUBTYPE_DISCOVERY_REFERRAL;
        }

        /**
         * Where the entry points, as a transport ID. IllegalArgumentException when this host cannot reach it (a
         * transport other than TCP and RDMA, an address family other than IPv4 and IPv6, an address that is not an IP
         * literal).
         */
        public TransportId transportId() {
            String transport = switch (trtype) {
                case DiscoveryLog.TRTYPE_TCP -> "TCP";
                case DiscoveryLog.TRTYPE_RDMA -> "RDMA";
                default -> throw new IllegalArgumentException("transport type " + trtype + " is not TCP or RDMA");
            };
            String family = switch (adrfam) {
                case DiscoveryLog.ADRFAM_IPV4 -> "IPv4";
                case DiscoveryLog.ADRFAM_IPV6 -> "IPv6";
                default -> throw new IllegalArgumentException("address family " + adrfam + " is not IPv4 or IPv6");
            };
            int port;
            try {
                port = Integer.parseInt(trsvcid);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("trsvcid '" + trsvcid + "' is not a port number");
            }
            return new TransportId(transport, family, traddr, port, subnqn);
        }
    }
}
