package io.keel.nvme.spec;

/**
 * The 1024-byte Connect command data (NVMe-oF 1.1 figure 20): HOSTID (16 bytes, a UUID) at 0,
 * CNTLID u16 at 16 (0xFFFF = dynamic, 0xFFFE = any static), SUBNQN at 256 and HOSTNQN at 512
 * (256 bytes each, NUL-terminated UTF-8).
 */
public final class ConnectData extends Flyweight<ConnectData> {
    public static final int SIZE = 1024;
    public static final int NQN_SIZE = 256;
    public static final int CNTLID_DYNAMIC = 0xFFFF;
    public static final int CNTLID_ANY_STATIC = 0xFFFE;

    @Override
    public int size() {
        return SIZE;
    }

    public byte[] hostId() {
        return bytes(0, 16);
    }

    public ConnectData hostId(byte[] v) {
        bytes(0, 16, v);
        return this;
    }

    /** HOSTID as a UUID, bytes in the order written (big-endian, as RFC 4122 text reads). */
    public java.util.UUID hostIdUuid() {
        return Uuids.read(segment, offset);
    }

    public ConnectData hostId(java.util.UUID v) {
        Uuids.write(segment, offset, v);
        return this;
    }

    public int cntlid() {
        return u16(16);
    }

    public ConnectData cntlid(int v) {
        u16(16, v);
        return this;
    }

    public String subnqn() {
        return utf8z(256, NQN_SIZE);
    }

    public ConnectData subnqn(String v) {
        utf8z(256, NQN_SIZE, v);
        return this;
    }

    public String hostnqn() {
        return utf8z(512, NQN_SIZE);
    }

    public ConnectData hostnqn(String v) {
        utf8z(512, NQN_SIZE, v);
        return this;
    }
}
