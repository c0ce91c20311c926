package io.keel.nvme.host;

import io.keel.nvme.host.rdma.RdmaHostTransport;
import io.keel.nvme.host.tcp.TcpHostTransport;
import java.util.List;
import java.util.Locale;

/** The host's transports, by SPDK's trtype. */
public final class HostTransports {
    private static final List<HostTransport> ALL = List.of(TcpHostTransport.INSTANCE, RdmaHostTransport.INSTANCE);

    private HostTransports() {
    }

    public static List<HostTransport> all() {
        return ALL;
    }

    /** The transport of {@code trtype} (any case), or null. */
    public static HostTransport byName(String trtype) {
        for (HostTransport t : ALL) {
            if (t.name().equals(trtype.toUpperCase(Locale.ROOT))) {
                return t;
            }
        }
        return null;
    }
}
