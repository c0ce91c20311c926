package io.keel.nvme.host;

/** What Identify Namespace told about one namespace: its size in blocks and its block size in bytes. */
public record Namespace(int nsid, long blocks, int blockSize) {
    public long sizeBytes() {
        return blocks * blockSize;
    }
}
