package io.keel.vhost.virtio;

/** Feature bit numbers of the virtio transport and ring (virtio 1.1 section 6) that any device type may offer. */
public final class VirtioFeatures {
    public static final int RING_INDIRECT_DESC = 28;
    public static final int RING_EVENT_IDX = 29;
    public static final int VERSION_1 = 32;

    private VirtioFeatures() {
    }

    public static long bit(int n) {
        return 1L << n;
    }
}
