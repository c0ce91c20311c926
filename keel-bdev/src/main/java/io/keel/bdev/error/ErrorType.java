package io.keel.bdev.error;

/** What an injection does to the I/O it picks ({@code error_type} of {@code bdev_error_inject_error}). */
enum ErrorType {
    FAILURE("failure"), PENDING("pending"), CORRUPT_DATA("corrupt_data"), NOMEM("nomem"), NVME_FAILURE("nvme_failure");

    private final String wireName;

    ErrorType(String wireName) {
        this.wireName = wireName;
    }

    String wireName() {
        return wireName;
    }

    /** The type named {@code name} on the wire, or null. */
    static ErrorType fromWire(String name) {
        for (ErrorType t : values()) {
            if (t.wireName.equals(name)) {
                return t;
            }
        }
        return null;
    }
}
