package io.keel.bdev;

/** The I/O types Keel's bdev layer carries, with SPDK's names for {@code supported_io_types}. */
public enum IoType {
    READ("read"), WRITE("write"), UNMAP("unmap"), FLUSH("flush"), RESET("reset"), WRITE_ZEROES("write_zeroes"),
    COMPARE("compare");

    /** Every key SPDK lists in {@code supported_io_types}, in its order; those Keel lacks are reported false. */
    public static final String[] SPDK_IO_TYPE_KEYS = {"read", "write", "unmap", "flush", "reset", "nvme_admin",
        "nvme_io", "nvme_io_md", "write_zeroes", "zcopy", "get_zone_info", "zone_management", "zone_append",
        "compare", "compare_and_write", "abort", "seek_hole", "seek_data", "copy", "nvme_iov_md", "nvme_nssr",
        "write_uncorrectable"};

    private final String wireName;

    IoType(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    /** Whether the I/O moves data between the caller's buffers and the device. */
    public boolean carriesData() {
        return this == READ || this == WRITE || this == COMPARE;
    }

    /** Whether the I/O changes the device (needs a descriptor opened for writing). */
    public boolean modifies() {
        return this == WRITE || this == UNMAP || this == WRITE_ZEROES;
    }

    public static IoType fromWire(String name) {
        for (IoType t : values()) {
            if (t.wireName.equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown io type '" + name + "'");
    }
}
