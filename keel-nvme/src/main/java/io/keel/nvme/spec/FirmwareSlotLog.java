package io.keel.nvme.spec;

/**
 * Firmware Slot Information log page (LID 03h, NVMe Base 2.0 figure 209), 512 bytes: AFI at 0
 * (active slot bits 2:0, next-reset slot bits 6:4), firmware revision of slot n (1..7) at 8(n),
 * 8 ASCII bytes space padded.
 */
public final class FirmwareSlotLog extends Flyweight<FirmwareSlotLog> {
    public static final int SIZE = 512;

    @Override
    public int size() {
        return SIZE;
    }

    public int afi() {
        return u8(0);
    }

    public int activeSlot() {
        return u8(0) & 0x7;
    }

    public int nextResetSlot() {
        return (u8(0) >>> 4) & 0x7;
    }

    public FirmwareSlotLog afi(int activeSlot, int nextResetSlot) {
        u8(0, (activeSlot & 0x7) | (nextResetSlot & 0x7) << 4);
        return this;
    }

    public String revision(int slot) {
        return ascii(slotAt(slot), 8);
    }

    public FirmwareSlotLog revision(int slot, String fr) {
        ascii(slotAt(slot), 8, fr);
        return this;
    }

    private static int slotAt(int slot) {
        if (slot < 1 || slot > 7) {
            throw new IllegalArgumentException("firmware slot " + slot);
        }
        return slot * 8;
    }
}
