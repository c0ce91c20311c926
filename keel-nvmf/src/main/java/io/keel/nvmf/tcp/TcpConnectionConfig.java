package io.keel.nvmf.tcp;

/**
 * Settings of one NVMe/TCP target connection (SPDK's TCP transport options where they exist).
 *
 * @param queueDepth requests pre-allocated per connection; also the SQ size SQHD wraps at
 * @param cpda controller PDU data alignment announced in ICResp (0's based dwords, 0..31)
 * @param headerDigest whether a host's request for header digests is accepted
 * @param dataDigest whether a host's request for data digests is accepted
 * @param maxH2CData MAXH2CDATA announced in ICResp (>= 4096, multiple of 4)
 * @param maxR2TLength largest R2TL of one R2T (the host splits it into H2CData PDUs of at most MAXH2CDATA)
 * @param inCapsuleDataSize largest in-capsule data accepted (per-request buffer size)
 * @param maxIoSize largest data transfer of one command (SGL length)
 * @param maxC2HData largest data of one C2HData PDU (reads are split at this)
 * @param c2hSuccess whether a successful read ends with C2HData SUCCESS instead of a CapsuleResp
 */
public record TcpConnectionConfig(int queueDepth, int cpda, boolean headerDigest, boolean dataDigest, int maxH2CData,
        int maxR2TLength, int inCapsuleDataSize, int maxIoSize, int maxC2HData, boolean c2hSuccess) {

    public TcpConnectionConfig {
        if (queueDepth < 1 || queueDepth > 65535) {
            throw new IllegalArgumentException("queueDepth out of 1..65535: " + queueDepth);
        }
        if (cpda < 0 || cpda > 31) {
            throw new IllegalArgumentException("cpda out of 0..31: " + cpda);
        }
        if (maxH2CData < 4096 || maxH2CData % 4 != 0) {
            throw new IllegalArgumentException("maxH2CData below 4096 or not a multiple of 4: " + maxH2CData);
        }
        if (maxR2TLength < 1 || inCapsuleDataSize < 0 || maxIoSize < 1 || maxC2HData < 1) {
            throw new IllegalArgumentException("sizes must be positive");
        }
    }

    /** SPDK-like defaults: depth 128, CPDA 0, digests accepted, 128 KiB MAXH2CDATA/IO, 8 KiB in-capsule. */
    public static TcpConnectionConfig defaults() {
        return new TcpConnectionConfig(128, 0, true, true, 131072, 131072, 8192, 131072, 131072, true);
    }

    public TcpConnectionConfig withQueueDepth(int v) {
        return new TcpConnectionConfig(v, cpda, headerDigest, dataDigest, maxH2CData, maxR2TLength, inCapsuleDataSize,
                maxIoSize, maxC2HData, c2hSuccess);
    }

    public TcpConnectionConfig withCpda(int v) {
        return new TcpConnectionConfig(queueDepth, v, headerDigest, dataDigest, maxH2CData, maxR2TLength,
                inCapsuleDataSize, maxIoSize, maxC2HData, c2hSuccess);
    }

    public TcpConnectionConfig withDigests(boolean header, boolean data) {
        return new TcpConnectionConfig(queueDepth, cpda, header, data, maxH2CData, maxR2TLength, inCapsuleDataSize,
                maxIoSize, maxC2HData, c2hSuccess);
    }

    public TcpConnectionConfig withMaxH2CData(int v) {
        return new TcpConnectionConfig(queueDepth, cpda, headerDigest, dataDigest, v, maxR2TLength, inCapsuleDataSize,
                maxIoSize, maxC2HData, c2hSuccess);
    }

    public TcpConnectionConfig withMaxR2TLength(int v) {
        return new TcpConnectionConfig(queueDepth, cpda, headerDigest, dataDigest, maxH2CData, v, inCapsuleDataSize,
                maxIoSize, maxC2HData, c2hSuccess);
    }

    public TcpConnectionConfig withInCapsuleDataSize(int v) {
        return new TcpConnectionConfig(queueDepth, cpda, headerDigest, dataDigest, maxH2CData, maxR2TLength, v,
                maxIoSize, maxC2HData, c2hSuccess);
    }

    public TcpConnectionConfig withMaxC2HData(int v) {
        return new TcpConnectionConfig(queueDepth, cpda, headerDigest, dataDigest, maxH2CData, maxR2TLength,
                inCapsuleDataSize, maxIoSize, v, c2hSuccess);
    }

    public TcpConnectionConfig withC2hSuccess(boolean v) {
        return new TcpConnectionConfig(queueDepth, cpda, headerDigest, dataDigest, maxH2CData, maxR2TLength,
                inCapsuleDataSize, maxIoSize, maxC2HData, v);
    }
}
