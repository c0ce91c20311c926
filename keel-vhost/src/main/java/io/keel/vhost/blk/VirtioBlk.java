package io.keel.vhost.blk;

/**
 * virtio-blk's request layout (virtio 1.1 section 5.2.6): a 16-byte header the driver writes (type u32, reserved
 * u32, sector u64), the data, and a status byte the device writes last. Sectors are 512 bytes whatever the block
 * size; discard and write zeroes carry a table of 16-byte segments (sector u64, num_sectors u32, flags u32).
 */
public final class VirtioBlk {
    public static final int T_IN = 0;
    public static final int T_OUT = 1;
    public static final int T_FLUSH = 4;
    public static final int T_GET_ID = 8;
    public static final int T_DISCARD = 11;
    public static final int T_WRITE_ZEROES = 13;

    public static final byte S_OK = 0;
    public static final byte S_IOERR = 1;
    public static final byte S_UNSUPP = 2;

    public static final int SECTOR_BYTES = 512;
    public static final int HEADER_BYTES = 16;
    /** GET_ID's answer: the serial, zero-padded, not necessarily terminated. */
    public static final int ID_BYTES = 20;
    public static final int RANGE_BYTES = 16;
    /** The one flag of a write zeroes segment: the device may unmap. */
    public static final int RANGE_F_UNMAP = 1;

    private VirtioBlk() {
    }
}
