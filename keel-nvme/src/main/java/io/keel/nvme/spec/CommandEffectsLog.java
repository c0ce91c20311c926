package io.keel.nvme.spec;

/**
 * Commands Supported and Effects log page (LID 05h, NVMe Base 2.0 figure 210), 4096 bytes: 256 admin
 * entries (u32, by opcode) at 0, 256 I/O entries at 1024. Entry bits: CSUPP 0, LBCC 1, NCC 2, NIC 3,
 * CCC 4, CSE 18:16, UUID selection 19.
 */
public final class CommandEffectsLog extends Flyweight<CommandEffectsLog> {
    public static final int SIZE = 4096;
    public static final int IO_OFFSET = 1024;

    public static final int CSUPP = 1;
    public static final int LBCC = 1 << 1;
    public static final int NCC = 1 << 2;
    public static final int NIC = 1 << 3;
    public static final int CCC = 1 << 4;

    @Override
    public int size() {
        return SIZE;
    }

    public int admin(int opcode) {
        return u32((opcode & 0xFF) * 4);
    }

    public CommandEffectsLog admin(int opcode, int effects) {
        u32((opcode & 0xFF) * 4, effects);
        return this;
    }

    public int io(int opcode) {
        return u32(IO_OFFSET + (opcode & 0xFF) * 4);
    }

    public CommandEffectsLog io(int opcode, int effects) {
        u32(IO_OFFSET + (opcode & 0xFF) * 4, effects);
        return this;
    }
}
