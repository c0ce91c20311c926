package io.keel.nvme.host;

import java.time.Duration;
import java.util.UUID;

/**
 * How the host presents itself and waits: host NQN and ID, keep-alive timeout (0: off), digests asked for in
 * the ICReq, and the bound on every setup wait (TCP connect, ICResp, Connect, CSTS.RDY, admin commands).
 */
public record HostOptions(String hostNqn, UUID hostId, int keepAliveMs, boolean headerDigest, boolean dataDigest,
        Duration timeout) {
    public HostOptions {
        if (keepAliveMs < 0) {
            throw new IllegalArgumentException("keep-alive timeout must be >= 0 ms");
        }
    }

    /** A fresh host ID, the NQN derived from it as nvme-cli does, 10 s keep-alive, no digests, 10 s timeout. */
    public static HostOptions defaults() {
        UUID id = UUID.randomUUID();
        return new HostOptions("nqn.2014-08.org.nvmexpress:uuid:" + id, id, 10_000, false, false,
                Duration.ofSeconds(10));
    }

    public HostOptions withDigests(boolean header, boolean data) {
        return new HostOptions(hostNqn, hostId, keepAliveMs, header, data, timeout);
    }

    public HostOptions withKeepAliveMs(int ms) {
        return new HostOptions(hostNqn, hostId, ms, headerDigest, dataDigest, timeout);
    }

    public HostOptions withTimeout(Duration t) {
        return new HostOptions(hostNqn, hostId, keepAliveMs, headerDigest, dataDigest, t);
    }
}
