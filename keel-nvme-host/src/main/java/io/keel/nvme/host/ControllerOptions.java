package io.keel.nvme.host;

import java.util.UUID;

/**
 * How the host brings a controller up and keeps it: its NQN and host ID, the keep-alive timeout it asks for
 * (KATO, ms; 0: none), the digests it asks for, how many I/O queues it asks for, the admin queue size, and the
 * bounds on connecting a queue and on each admin command of bring-up and shutdown.
 */
public record ControllerOptions(String hostNqn, UUID hostId, int keepAliveMs, boolean headerDigest,
        boolean dataDigest, int ioQueues, int adminQueueSize, long connectTimeoutMs, long adminTimeoutMs) {
    public ControllerOptions {
        if (keepAliveMs < 0) {
            throw new IllegalArgumentException("keep-alive timeout must be >= 0 ms");
        }
        if (ioQueues < 1 || ioQueues > 65535) {
            throw new IllegalArgumentException("I/O queue count out of 1..65535");
        }
        if (adminQueueSize < 2 || adminQueueSize > 4096) {
            throw new IllegalArgumentException("admin queue size out of 2..4096");
        }
    }

    /** nvme-cli's NQN for a host ID ({@code nqn.2014-08.org.nvmexpress:uuid:ID}). */
    public static String hostNqnOf(UUID id) {
        return "nqn.2014-08.org.nvmexpress:uuid:" + id;
    }

    /** A fresh host ID and its NQN, 10 s keep-alive, no digests, 127 I/O queues, 10 s bounds. */
    public static ControllerOptions defaults() {
        UUID id = UUID.randomUUID();
        return new ControllerOptions(hostNqnOf(id), id, 10_000, false, false, 127, 32, 10_000, 10_000);
    }

    public ControllerOptions withHost(String nqn, UUID id) {
        return new ControllerOptions(nqn, id, keepAliveMs, headerDigest, dataDigest, ioQueues, adminQueueSize,
                connectTimeoutMs, adminTimeoutMs);
    }

    public ControllerOptions withDigests(boolean header, boolean data) {
        return new ControllerOptions(hostNqn, hostId, keepAliveMs, header, data, ioQueues, adminQueueSize,
                connectTimeoutMs, adminTimeoutMs);
    }

    public ControllerOptions withKeepAliveMs(int ms) {
        return new ControllerOptions(hostNqn, hostId, ms, headerDigest, dataDigest, ioQueues, adminQueueSize,
                connectTimeoutMs, adminTimeoutMs);
    }

    public ControllerOptions withTimeouts(long connectMs, long adminMs) {
        return new ControllerOptions(hostNqn, hostId, keepAliveMs, headerDigest, dataDigest, ioQueues, adminQueueSize,
                connectMs, adminMs);
    }
}
