package io.keel.vhost.blk;

/** virtio-blk feature bit numbers (virtio 1.1 section 5.2.3). */
public final class VirtioBlkFeatures {
    public static final int SIZE_MAX = 1;
    public static final int SEG_MAX = 2;
    public static final int GEOMETRY = 4;
    public static final int RO = 5;
    public static final int BLK_SIZE = 6;
    public static final int FLUSH = 9;
    public static final int TOPOLOGY = 10;
    public static final int CONFIG_WCE = 11;
    public static final int MQ = 12;
    public static final int DISCARD = 13;
    public static final int WRITE_ZEROES = 14;

    private VirtioBlkFeatures() {
    }
}
