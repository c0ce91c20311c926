package io.keel.nvme.spec;

/** Feature identifiers for Get/Set Features (NVMe Base 2.0 figure 317). */
public final class FeatureId {
    private FeatureId() {
    }

    public static final int ARBITRATION = 0x01;
    public static final int POWER_MANAGEMENT = 0x02;
    public static final int LBA_RANGE_TYPE = 0x03;
    public static final int TEMPERATURE_THRESHOLD = 0x04;
    public static final int ERROR_RECOVERY = 0x05;
    public static final int VOLATILE_WRITE_CACHE = 0x06;
    /** CDW11/DW0: NSQR bits 15:0, NCQR bits 31:16, both 0-based. */
    public static final int NUMBER_OF_QUEUES = 0x07;
    public static final int INTERRUPT_COALESCING = 0x08;
    public static final int INTERRUPT_VECTOR_CONFIGURATION = 0x09;
    public static final int WRITE_ATOMICITY = 0x0A;
    public static final int ASYNC_EVENT_CONFIGURATION = 0x0B;
    public static final int AUTONOMOUS_POWER_STATE_TRANSITION = 0x0C;
    public static final int HOST_MEMORY_BUFFER = 0x0D;
    public static final int TIMESTAMP = 0x0E;
    /** CDW11/DW0: KATO in milliseconds. */
    public static final int KEEP_ALIVE_TIMER = 0x0F;
    public static final int HOST_CONTROLLED_THERMAL_MANAGEMENT = 0x10;
    public static final int NON_OPERATIONAL_POWER_STATE = 0x11;
    public static final int HOST_IDENTIFIER = 0x81;
    public static final int RESERVATION_NOTIFICATION_MASK = 0x82;
    public static final int RESERVATION_PERSISTENCE = 0x83;

    public static final int SEL_CURRENT = 0;
    public static final int SEL_DEFAULT = 1;
    public static final int SEL_SAVED = 2;
    public static final int SEL_SUPPORTED_CAPABILITIES = 3;

    /** Number of Queues value: 0-based counts packed NSQR 15:0, NCQR 31:16. */
    public static int numberOfQueues(int submissionQueues, int completionQueues) {
        return ((completionQueues - 1) & 0xFFFF) << 16 | ((submissionQueues - 1) & 0xFFFF);
    }
}
