package io.keel.nvme.spec;

/**
 * NVMe status codes (NVMe Base 2.0 §4.6.1.2, NVM Command Set 1.0 §3.5, NVMe-oF 1.1 figure 10).
 * A <em>code</em> here is {@code SCT << 8 | SC}; {@link #field} turns it into the 16-bit CQE status
 * field (phase tag in bit 0, SC bits 8:1, SCT 11:9, CRD 13:12, M 14, DNR 15).
 */
public final class Status {
    private Status() {
    }

    // Status code types
    public static final int SCT_GENERIC = 0x0;
    public static final int SCT_COMMAND_SPECIFIC = 0x1;
    public static final int SCT_MEDIA = 0x2;
    public static final int SCT_PATH = 0x3;
    public static final int SCT_VENDOR = 0x7;

    public static int code(int sct, int sc) {
        return (sct & 0x7) << 8 | (sc & 0xFF);
    }

    public static int sct(int code) {
        return (code >>> 8) & 0x7;
    }

    public static int sc(int code) {
        return code & 0xFF;
    }

    /** The CQE status field for {@code code}, phase tag 0. */
    public static int field(int code, boolean dnr) {
        return field(sct(code), sc(code), 0, false, dnr);
    }

    /** The CQE status field (bits 15:0 of CQE dword 3 upper half), phase tag 0. */
    public static int field(int sct, int sc, int crd, boolean more, boolean dnr) {
        return (sc & 0xFF) << 1 | (sct & 0x7) << 9 | (crd & 0x3) << 12 | (more ? 1 << 14 : 0) | (dnr ? 1 << 15 : 0);
    }

    /** The {@code SCT << 8 | SC} code held in a status field. */
    public static int codeOf(int field) {
        return code((field >>> 9) & 0x7, (field >>> 1) & 0xFF);
    }

    // Generic command status (SCT 0)
    public static final int SUCCESS = 0x00;
    public static final int INVALID_OPCODE = 0x01;
    public static final int INVALID_FIELD = 0x02;
    public static final int COMMAND_ID_CONFLICT = 0x03;
    public static final int DATA_TRANSFER_ERROR = 0x04;
    public static final int ABORTED_POWER_LOSS = 0x05;
    public static final int INTERNAL_ERROR = 0x06;
    public static final int ABORT_REQUESTED = 0x07;
    public static final int ABORTED_SQ_DELETION = 0x08;
    public static final int ABORTED_FAILED_FUSED = 0x09;
    public static final int ABORTED_MISSING_FUSED = 0x0A;
    public static final int INVALID_NAMESPACE_OR_FORMAT = 0x0B;
    public static final int COMMAND_SEQUENCE_ERROR = 0x0C;
    public static final int INVALID_SGL_SEGMENT_DESCRIPTOR = 0x0D;
    public static final int INVALID_NUMBER_OF_SGL_DESCRIPTORS = 0x0E;
    public static final int DATA_SGL_LENGTH_INVALID = 0x0F;
    public static final int METADATA_SGL_LENGTH_INVALID = 0x10;
    public static final int SGL_DESCRIPTOR_TYPE_INVALID = 0x11;
    public static final int INVALID_CONTROLLER_MEMORY_BUFFER_USE = 0x12;
    public static final int PRP_OFFSET_INVALID = 0x13;
    public static final int ATOMIC_WRITE_UNIT_EXCEEDED = 0x14;
    public static final int OPERATION_DENIED = 0x15;
    public static final int SGL_OFFSET_INVALID = 0x16;
    public static final int HOST_IDENTIFIER_INCONSISTENT_FORMAT = 0x18;
    public static final int KEEP_ALIVE_TIMER_EXPIRED = 0x19;
    public static final int KEEP_ALIVE_TIMEOUT_INVALID = 0x1A;
    public static final int ABORTED_PREEMPT = 0x1B;
    public static final int SANITIZE_FAILED = 0x1C;
    public static final int SANITIZE_IN_PROGRESS = 0x1D;
    public static final int SGL_DATA_BLOCK_GRANULARITY_INVALID = 0x1E;
    public static final int NAMESPACE_WRITE_PROTECTED = 0x20;
    public static final int COMMAND_INTERRUPTED = 0x21;
    public static final int TRANSIENT_TRANSPORT_ERROR = 0x22;
    // Generic, NVM command set specific (SCT 0)
    public static final int LBA_OUT_OF_RANGE = 0x80;
    public static final int CAPACITY_EXCEEDED = 0x81;
    public static final int NAMESPACE_NOT_READY = 0x82;
    public static final int RESERVATION_CONFLICT = 0x83;
    public static final int FORMAT_IN_PROGRESS = 0x84;

    // Command specific status (SCT 1)
    public static final int COMPLETION_QUEUE_INVALID = code(SCT_COMMAND_SPECIFIC, 0x00);
    public static final int INVALID_QUEUE_IDENTIFIER = code(SCT_COMMAND_SPECIFIC, 0x01);
    public static final int INVALID_QUEUE_SIZE = code(SCT_COMMAND_SPECIFIC, 0x02);
    public static final int ABORT_COMMAND_LIMIT_EXCEEDED = code(SCT_COMMAND_SPECIFIC, 0x03);
    public static final int ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED = code(SCT_COMMAND_SPECIFIC, 0x05);
    public static final int INVALID_FIRMWARE_SLOT = code(SCT_COMMAND_SPECIFIC, 0x06);
    public static final int INVALID_FIRMWARE_IMAGE = code(SCT_COMMAND_SPECIFIC, 0x07);
    public static final int INVALID_INTERRUPT_VECTOR = code(SCT_COMMAND_SPECIFIC, 0x08);
    public static final int INVALID_LOG_PAGE = code(SCT_COMMAND_SPECIFIC, 0x09);
    public static final int INVALID_FORMAT = code(SCT_COMMAND_SPECIFIC, 0x0A);
    public static final int INVALID_QUEUE_DELETION = code(SCT_COMMAND_SPECIFIC, 0x0C);
    public static final int FEATURE_ID_NOT_SAVEABLE = code(SCT_COMMAND_SPECIFIC, 0x0D);
    public static final int FEATURE_NOT_CHANGEABLE = code(SCT_COMMAND_SPECIFIC, 0x0E);
    public static final int FEATURE_NOT_NAMESPACE_SPECIFIC = code(SCT_COMMAND_SPECIFIC, 0x0F);
    public static final int NAMESPACE_ALREADY_ATTACHED = code(SCT_COMMAND_SPECIFIC, 0x18);
    public static final int NAMESPACE_IS_PRIVATE = code(SCT_COMMAND_SPECIFIC, 0x19);
    public static final int NAMESPACE_NOT_ATTACHED = code(SCT_COMMAND_SPECIFIC, 0x1A);
    // NVM command set, command specific (SCT 1)
    public static final int CONFLICTING_ATTRIBUTES = code(SCT_COMMAND_SPECIFIC, 0x80);
    public static final int INVALID_PROTECTION_INFORMATION = code(SCT_COMMAND_SPECIFIC, 0x81);
    public static final int ATTEMPTED_WRITE_TO_READ_ONLY_RANGE = code(SCT_COMMAND_SPECIFIC, 0x82);
    // Fabrics command specific (SCT 1; NVMe-oF 1.1 figure 10) — meaningful only for Fabrics commands
    public static final int INCOMPATIBLE_FORMAT = code(SCT_COMMAND_SPECIFIC, 0x80);
    public static final int CONTROLLER_BUSY = code(SCT_COMMAND_SPECIFIC, 0x81);
    public static final int CONNECT_INVALID_PARAMETERS = code(SCT_COMMAND_SPECIFIC, 0x82);
    public static final int CONNECT_RESTART_DISCOVERY = code(SCT_COMMAND_SPECIFIC, 0x83);
    public static final int CONNECT_INVALID_HOST = code(SCT_COMMAND_SPECIFIC, 0x84);
    public static final int INVALID_QUEUE_TYPE = code(SCT_COMMAND_SPECIFIC, 0x85);
    public static final int DISCOVER_RESTART = code(SCT_COMMAND_SPECIFIC, 0x90);
    public static final int AUTHENTICATION_REQUIRED = code(SCT_COMMAND_SPECIFIC, 0x91);

    // Media and data integrity errors (SCT 2)
    public static final int WRITE_FAULT = code(SCT_MEDIA, 0x80);
    public static final int UNRECOVERED_READ_ERROR = code(SCT_MEDIA, 0x81);
    public static final int GUARD_CHECK_ERROR = code(SCT_MEDIA, 0x82);
    public static final int APPLICATION_TAG_CHECK_ERROR = code(SCT_MEDIA, 0x83);
    public static final int REFERENCE_TAG_CHECK_ERROR = code(SCT_MEDIA, 0x84);
    public static final int COMPARE_FAILURE = code(SCT_MEDIA, 0x85);
    public static final int ACCESS_DENIED = code(SCT_MEDIA, 0x86);
    public static final int DEALLOCATED_OR_UNWRITTEN_BLOCK = code(SCT_MEDIA, 0x87);

    // Path related status (SCT 3)
    public static final int INTERNAL_PATH_ERROR = code(SCT_PATH, 0x00);
    public static final int ANA_PERSISTENT_LOSS = code(SCT_PATH, 0x01);
    public static final int ANA_INACCESSIBLE = code(SCT_PATH, 0x02);
    public static final int ANA_TRANSITION = code(SCT_PATH, 0x03);
    public static final int CONTROLLER_PATHING_ERROR = code(SCT_PATH, 0x60);
    public static final int HOST_PATHING_ERROR = code(SCT_PATH, 0x70);
    public static final int ABORTED_BY_HOST = code(SCT_PATH, 0x71);
}
