package io.keel.bdev.delay;

/** The four latencies of a delay bdev ({@code latency_type} of {@code bdev_delay_update_latency}), in queue order. */
enum LatencyType {
    AVG_READ("avg_read"), P99_READ("p99_read"), AVG_WRITE("avg_write"), P99_WRITE("p99_write");

    private final String wireName;

    LatencyType(String wireName) {
        this.wireName = wireName;
    }

    String wireName() {
        return wireName;
    }

    /** The type named {@code name} on the wire, or null. */
    static LatencyType fromWire(String name) {
        for (LatencyType t : values()) {
            if (t.wireName.equals(name)) {
                return t;
            }
        }
        return null;
    }
}
