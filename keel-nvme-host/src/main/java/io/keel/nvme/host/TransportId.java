package io.keel.nvme.host;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Locale;

/**
 * Where a controller is: SPDK's transport ID, parsed from its text form
 * {@code "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:nqn..."} (keys in any case and order,
 * {@code key:value} or {@code key=value}, separated by spaces). The transports are TCP and RDMA.
 */
public record TransportId(String trtype, String adrfam, String traddr, int trsvcid, String subnqn) {
    public static final int DEFAULT_PORT = 4420;

    public TransportId {
        if (!trtype.equalsIgnoreCase("TCP") && !trtype.equalsIgnoreCase("RDMA")) {
            throw new IllegalArgumentException("unsupported trtype " + trtype + " (TCP or RDMA)");
        }
        if (!adrfam.equalsIgnoreCase("IPv4") && !adrfam.equalsIgnoreCase("IPv6")) {
            throw new IllegalArgumentException("unsupported adrfam " + adrfam + " (IPv4 or IPv6)");
        }
        if (traddr == null || traddr.isEmpty()) {
            throw new IllegalArgumentException("traddr is required");
        }
        try {
            InetAddress.ofLiteral(traddr);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("traddr " + traddr + " is not an IP address");
        }
        if (trsvcid < 1 || trsvcid > 65535) {
            throw new IllegalArgumentException("trsvcid out of range: " + trsvcid);
        }
        if (subnqn == null || subnqn.isEmpty()) {
            throw new IllegalArgumentException("subnqn is required");
        }
        if (subnqn.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 223) {
            throw new IllegalArgumentException("subnqn longer than 223 bytes");
        }
    }

    public static TransportId parse(String text) {
        String trtype = null;
        String adrfam = "IPv4";
        String traddr = null;
        int trsvcid = DEFAULT_PORT;
        String subnqn = null;
        for (String pair : text.trim().split("\\s+")) {
            if (pair.isEmpty()) {
                continue;
            }
            int sep = indexOfSeparator(pair);
            if (sep <= 0 || sep == pair.length() - 1) {
                throw new IllegalArgumentException("expected key:value, got '" + pair + "'");
            }
            String key = pair.substring(0, sep).toLowerCase(Locale.ROOT);
            String value = pair.substring(sep + 1);
            switch (key) {
                case "trtype" -> trtype = value;
                case "adrfam" -> adrfam = value;
                case "traddr" -> traddr = value;
                case "trsvcid" -> trsvcid = port(value);
                case "subnqn" -> subnqn = value;
                default -> throw new IllegalArgumentException("unknown transport ID key '" + key + "'");
            }
        }
        if (trtype == null) {
            throw new IllegalArgumentException("trtype is required");
        }
        return new TransportId(trtype, adrfam, traddr, trsvcid, subnqn);
    }

    /** The socket address; traddr is an IP address literal (resolving a name could block a reactor). */
    public InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.ofLiteral(traddr), trsvcid);
    }

    /** The first ':' or '=' (an NQN value may itself contain ':'). */
    private static int indexOfSeparator(String pair) {
        int c = pair.indexOf(':');
        int e = pair.indexOf('=');
        if (c < 0) {
            return e;
        }
        return e < 0 ? c : Math.min(c, e);
    }

    private static int port(String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("trsvcid is not a port number: " + value);
        }
    }

    @Override
    public String toString() {
        return "trtype:" + trtype + " adrfam:" + adrfam + " traddr:" + traddr + " trsvcid:" + trsvcid + " subnqn:"
                + subnqn;
    }
}
