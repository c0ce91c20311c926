package io.keel.nvme.host;

import java.util.UUID;

/**
 * What one queue pair connects with: its queue ID and size (SQ entries: at most {@code queueSize - 1} commands
 * on the wire, as the spec's full-queue rule leaves one slot), how many requests its pool holds (the rest wait
 * in its pending list, rule R6), the Fabrics Connect fields, the digests asked for in the ICReq, and the bound
 * on connecting (TCP, ICResp, Connect).
 */
public record QpairConfig(int qid, int queueSize, int requests, String subnqn, String hostNqn, UUID hostId,
        int cntlid, int kato, boolean headerDigest, boolean dataDigest, long connectTimeoutMs) {
    public QpairConfig {
        if (queueSize < 2 || queueSize > 65536) {
            throw new IllegalArgumentException("queue size " + queueSize + " out of 2..65536");
        }
        if (requests < 1 || requests > 65535) {
            throw new IllegalArgumentException("request count " + requests + " out of 1..65535");
        }
        if (connectTimeoutMs <= 0) {
            throw new IllegalArgumentException("connect timeout must be positive");
        }
    }

    /** Commands on the wire at once. */
    public int depth() {
        return queueSize - 1;
    }

    public QpairConfig withCntlid(int id) {
        return new QpairConfig(qid, queueSize, requests, subnqn, hostNqn, hostId, id, kato, headerDigest, dataDigest,
                connectTimeoutMs);
    }
}
