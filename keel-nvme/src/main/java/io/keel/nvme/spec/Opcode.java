package io.keel.nvme.spec;

/** Command opcodes (NVMe Base 2.0 figure 138, NVM Command Set 1.0 figure 15, NVMe-oF 1.1 figure 8). */
public final class Opcode {
    private Opcode() {
    }

    // Admin command set
    public static final int DELETE_IO_SQ = 0x00;
    public static final int CREATE_IO_SQ = 0x01;
    public static final int GET_LOG_PAGE = 0x02;
    public static final int DELETE_IO_CQ = 0x04;
    public static final int CREATE_IO_CQ = 0x05;
    public static final int IDENTIFY = 0x06;
    public static final int ABORT = 0x08;
    public static final int SET_FEATURES = 0x09;
    public static final int GET_FEATURES = 0x0A;
    public static final int ASYNC_EVENT_REQUEST = 0x0C;
    public static final int NAMESPACE_MANAGEMENT = 0x0D;
    public static final int FIRMWARE_COMMIT = 0x10;
    public static final int FIRMWARE_DOWNLOAD = 0x11;
    public static final int NAMESPACE_ATTACHMENT = 0x15;
    public static final int KEEP_ALIVE = 0x18;
    public static final int DOORBELL_BUFFER_CONFIG = 0x7C;
    /** Fabrics commands (both admin and I/O queues); the command is in {@code fctype}. */
    public static final int FABRICS = 0x7F;
    public static final int FORMAT_NVM = 0x80;
    public static final int SECURITY_SEND = 0x81;
    public static final int SECURITY_RECEIVE = 0x82;
    public static final int SANITIZE = 0x84;

    // NVM command set (I/O queues)
    public static final int FLUSH = 0x00;
    public static final int WRITE = 0x01;
    public static final int READ = 0x02;
    public static final int WRITE_UNCORRECTABLE = 0x04;
    public static final int COMPARE = 0x05;
    public static final int WRITE_ZEROES = 0x08;
    public static final int DATASET_MANAGEMENT = 0x09;
    public static final int VERIFY = 0x0C;
    public static final int RESERVATION_REGISTER = 0x0D;
    public static final int RESERVATION_REPORT = 0x0E;
    public static final int RESERVATION_ACQUIRE = 0x11;
    public static final int RESERVATION_RELEASE = 0x15;
    public static final int COPY = 0x19;

    /** Fabrics command types (FCTYPE, SQE byte 4), NVMe-oF 1.1 figure 9. */
    public static final class Fabrics {
        private Fabrics() {
        }

        public static final int PROPERTY_SET = 0x00;
        public static final int CONNECT = 0x01;
        public static final int PROPERTY_GET = 0x04;
        public static final int AUTHENTICATION_SEND = 0x05;
        public static final int AUTHENTICATION_RECEIVE = 0x06;
        public static final int DISCONNECT = 0x08;
    }

    /** Data transfer direction from opcode bits 1:0 (00 none, 01 host to controller, 10 controller to host, 11 bidirectional). */
    public static int dataTransfer(int opcode) {
        return opcode & 0x3;
    }
}
