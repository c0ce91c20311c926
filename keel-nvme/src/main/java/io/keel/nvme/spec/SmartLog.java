package io.keel.nvme.spec;

/**
 * SMART / Health Information log page (LID 02h, NVMe Base 2.0 figure 207), 512 bytes. Temperatures
 * are in Kelvin; 128-bit counters are set from a 64-bit value (high half zero) and read as their low
 * 64 bits. Data units are thousands of 512-byte units, rounded up ({@link #dataUnits(long)}).
 */
public final class SmartLog extends Flyweight<SmartLog> {
    public static final int SIZE = 512;

    public static final int CW_SPARE = 1;
    public static final int CW_TEMPERATURE = 1 << 1;
    public static final int CW_RELIABILITY = 1 << 2;
    public static final int CW_READ_ONLY = 1 << 3;
    public static final int CW_VOLATILE_BACKUP = 1 << 4;
    public static final int CW_PMR_READ_ONLY = 1 << 5;

    @Override
    public int size() {
        return SIZE;
    }

    /** Data units (1000 × 512 bytes, rounded up) for a byte count. */
    public static long dataUnits(long bytes) {
        long units512 = (bytes + 511) / 512;
        return (units512 + 999) / 1000;
    }

    public int criticalWarning() {
        return u8(0);
    }

    public SmartLog criticalWarning(int v) {
        u8(0, v);
        return this;
    }

    public int compositeTemperature() {
        return u16(1);
    }

    public SmartLog compositeTemperature(int kelvin) {
        u16(1, kelvin);
        return this;
    }

    public int availableSpare() {
        return u8(3);
    }

    public SmartLog availableSpare(int percent) {
        u8(3, percent);
        return this;
    }

    public int availableSpareThreshold() {
        return u8(4);
    }

    public SmartLog availableSpareThreshold(int percent) {
        u8(4, percent);
        return this;
    }

    public int percentageUsed() {
        return u8(5);
    }

    public SmartLog percentageUsed(int percent) {
        u8(5, percent);
        return this;
    }

    public int enduranceGroupCriticalWarning() {
        return u8(6);
    }

    public long dataUnitsRead() {
        return u64(32);
    }

    public SmartLog dataUnitsRead(long v) {
        u128(32, v, 0);
        return this;
    }

    public long dataUnitsWritten() {
        return u64(48);
    }

    public SmartLog dataUnitsWritten(long v) {
        u128(48, v, 0);
        return this;
    }

    public long hostReadCommands() {
        return u64(64);
    }

    public SmartLog hostReadCommands(long v) {
        u128(64, v, 0);
        return this;
    }

    public long hostWriteCommands() {
        return u64(80);
    }

    public SmartLog hostWriteCommands(long v) {
        u128(80, v, 0);
        return this;
    }

    /** Controller busy time in minutes. */
    public long controllerBusyTime() {
        return u64(96);
    }

    public SmartLog controllerBusyTime(long minutes) {
        u128(96, minutes, 0);
        return this;
    }

    public long powerCycles() {
        return u64(112);
    }

    public SmartLog powerCycles(long v) {
        u128(112, v, 0);
        return this;
    }

    public long powerOnHours() {
        return u64(128);
    }

    public SmartLog powerOnHours(long v) {
        u128(128, v, 0);
        return this;
    }

    public long unsafeShutdowns() {
        return u64(144);
    }

    public SmartLog unsafeShutdowns(long v) {
        u128(144, v, 0);
        return this;
    }

    public long mediaErrors() {
        return u64(160);
    }

    public SmartLog mediaErrors(long v) {
        u128(160, v, 0);
        return this;
    }

    public long errorLogEntries() {
        return u64(176);
    }

    public SmartLog errorLogEntries(long v) {
        u128(176, v, 0);
        return this;
    }

    /** Warning composite temperature time, minutes (u32 at 192). */
    public int warningTemperatureTime() {
        return u32(192);
    }

    public SmartLog warningTemperatureTime(int minutes) {
        u32(192, minutes);
        return this;
    }

    /** Critical composite temperature time, minutes (u32 at 196). */
    public int criticalTemperatureTime() {
        return u32(196);
    }

    public SmartLog criticalTemperatureTime(int minutes) {
        u32(196, minutes);
        return this;
    }

    /** Temperature sensor {@code n} (1..8) in Kelvin, u16 at 200 + 2(n-1). */
    public int temperatureSensor(int n) {
        return u16(sensor(n));
    }

    public SmartLog temperatureSensor(int n, int kelvin) {
        u16(sensor(n), kelvin);
        return this;
    }

    private static int sensor(int n) {
        if (n < 1 || n > 8) {
            throw new IllegalArgumentException("sensor " + n);
        }
        return 200 + (n - 1) * 2;
    }
}
