package io.keel.app.perf;

import io.keel.nvme.host.TransportId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One {@code -r} of {@code keel perf}: where the controller is, and the two keys spdk_nvme_perf reads from the
 * transport ID text besides the transport ID proper: {@code ns:N} (drive only namespace N; without it every
 * active namespace of the controller is driven) and {@code hostnqn:NQN} (the host NQN to connect with).
 *
 * @param nsid    the namespace to drive, or 0 for every active namespace
 * @param hostNqn the host NQN for this controller, or null for the run's
 */
record PerfTarget(TransportId trid, int nsid, String hostNqn) {
    PerfTarget {
        if (nsid < 0) {
            throw new IllegalArgumentException("ns must be a namespace ID from 1");
        }
    }

    /** Parses {@code -r} text: a transport ID with optional {@code ns:} and {@code hostnqn:} keys. */
    static PerfTarget parse(String text) {
        List<String> rest = new ArrayList<>();
        int nsid = 0;
        String hostNqn = null;
        for (String pair : text.trim().split("\\s+")) {
            int sep = separator(pair);
            String key = sep > 0 ? pair.substring(0, sep).toLowerCase(Locale.ROOT) : "";
            String value = sep > 0 ? pair.substring(sep + 1) : "";
            switch (key) {
                case "ns" -> nsid = nsid(value);
                case "hostnqn" -> {
                    if (value.isEmpty() || value.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 223) {
                        throw new IllegalArgumentException("hostnqn must be 1 to 223 bytes");
                    }
                    hostNqn = value;
                }
                default -> rest.add(pair);
            }
        }
        return new PerfTarget(TransportId.parse(String.join(" ", rest)), nsid, hostNqn);
    }

    private static int nsid(String value) {
        try {
            int n = Integer.parseInt(value);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // named below
        }
        throw new IllegalArgumentException("ns:" + value + " is not a namespace ID (1 or more)");
    }

    /** The first ':' or '=' (an NQN value may itself contain ':'), as {@link TransportId} splits. */
    private static int separator(String pair) {
        int c = pair.indexOf(':');
        int e = pair.indexOf('=');
        if (c < 0) {
            return e;
        }
        return e < 0 ? c : Math.min(c, e);
    }

    /** The same target with {@code -n}'s namespace when {@code ns:} did not name one. */
    PerfTarget withDefaultNsid(int n) {
        return nsid == 0 ? new PerfTarget(trid, n, hostNqn) : this;
    }

    /** spdk_nvme_perf's name of the controller in its output. */
    String describe() {
        return trid.trtype().toUpperCase(Locale.ROOT) + " (addr:" + trid.traddr() + " subnqn:" + trid.subnqn() + ")";
    }
}
