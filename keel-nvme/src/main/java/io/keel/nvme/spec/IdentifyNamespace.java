package io.keel.nvme.spec;

import java.util.UUID;

/**
 * Identify Namespace data structure for the NVM command set, CNS 00h (NVM Command Set 1.0 figure
 * 97). 4096 bytes. NGUID at 104 (16 bytes) and EUI64 at 120 (8 bytes) are stored big-endian as
 * their text reads; LBA formats (4 bytes each: MS bits 15:0, LBADS bits 23:16 as log2, RP 25:24)
 * start at byte 128, up to 64 of them.
 */
public final class IdentifyNamespace extends Flyweight<IdentifyNamespace> {
    public static final int SIZE = 4096;
    public static final int NGUID_OFFSET = 104;
    public static final int EUI64_OFFSET = 120;
    public static final int LBAF_OFFSET = 128;
    public static final int MAX_LBA_FORMATS = 64;

    public static final int NSFEAT_THIN_PROVISIONING = 1;
    public static final int NSFEAT_NS_ATOMICS = 1 << 1;
    public static final int NSFEAT_DEALLOC_ERROR = 1 << 2;
    public static final int NSFEAT_UID_NEVER_REUSED = 1 << 3;
    public static final int NSFEAT_OPTIMAL_PERF = 1 << 4;
    public static final int NMIC_SHARED = 1;

    @Override
    public int size() {
        return SIZE;
    }

    /** NVM capacity in bytes (48:63), low 64 bits. */
    public long nvmcap() {
        return u64(48);
    }

    public IdentifyNamespace nvmcap(long v) {
        u128(48, v, 0);
        return this;
    }

    public byte[] nguid() {
        return bytes(NGUID_OFFSET, 16);
    }

    public IdentifyNamespace nguid(byte[] v) {
        bytes(NGUID_OFFSET, 16, v);
        return this;
    }

    /** NGUID viewed as a UUID (SPDK derives a namespace's NGUID from its bdev UUID this way). */
    public UUID nguidUuid() {
        return Uuids.read(segment, offset + NGUID_OFFSET);
    }

    public IdentifyNamespace nguid(UUID v) {
        Uuids.write(segment, offset + NGUID_OFFSET, v);
        return this;
    }

    public byte[] eui64() {
        return bytes(EUI64_OFFSET, 8);
    }

    public IdentifyNamespace eui64(byte[] v) {
        bytes(EUI64_OFFSET, 8, v);
        return this;
    }

    /** Index of the LBA format in use (FLBAS bits 3:0 and 6:5). */
    public int formatIndex() {
        int f = u8(26);
        return (f & 0xF) | ((f >>> 5) & 0x3) << 4;
    }

    public IdentifyNamespace formatIndex(int index) {
        int f = u8(26) & 0x10;
        u8(26, f | (index & 0xF) | ((index >>> 4) & 0x3) << 5);
        return this;
    }

    public int lbaf(int n) {
        return u32(lbafAt(n));
    }

    /** Sets LBA format {@code n}: metadata size, log2 of the data size, relative performance. */
    public IdentifyNamespace lbaf(int n, int metadataSize, int lbadsLog2, int relativePerformance) {
        u32(lbafAt(n), (metadataSize & 0xFFFF) | (lbadsLog2 & 0xFF) << 16 | (relativePerformance & 0x3) << 24);
        return this;
    }

    public int lbafMetadataSize(int n) {
        return u16(lbafAt(n));
    }

    /** LBA data size as log2 (12 for 4096 bytes). */
    public int lbafLbads(int n) {
        return u8(lbafAt(n) + 2);
    }

    public int lbafRelativePerformance(int n) {
        return u8(lbafAt(n) + 3) & 0x3;
    }

    /** Logical block size in bytes of the format in use. */
    public int blockSize() {
        return 1 << lbafLbads(formatIndex());
    }

    private static int lbafAt(int n) {
        if (n < 0 || n >= MAX_LBA_FORMATS) {
            throw new IllegalArgumentException("LBA format " + n);
        }
        return LBAF_OFFSET + n * 4;
    }

    /** Namespace Size in logical blocks (byte 0). */
    public long nsze() {
        return u64(0);
    }

    public IdentifyNamespace nsze(long v) {
        u64(0, v);
        return this;
    }

    /** Namespace Capacity in logical blocks (byte 8). */
    public long ncap() {
        return u64(8);
    }

    public IdentifyNamespace ncap(long v) {
        u64(8, v);
        return this;
    }

    /** Namespace Utilization in logical blocks (byte 16). */
    public long nuse() {
        return u64(16);
    }

    public IdentifyNamespace nuse(long v) {
        u64(16, v);
        return this;
    }

    /** Namespace Features: bit 0 thin provisioning, bit 1 NAWUN/NAWUPF/NACWU valid, bit 2 DAE, bit 3 UIDREUSE, bit 4 OPTPERF (byte 24). */
    public int nsfeat() {
        return u8(24);
    }

    public IdentifyNamespace nsfeat(int v) {
        u8(24, v);
        return this;
    }

    /** Number of LBA Formats (0-based) (byte 25). */
    public int nlbaf() {
        return u8(25);
    }

    public IdentifyNamespace nlbaf(int v) {
        u8(25, v);
        return this;
    }

    /** Formatted LBA Size: bits 3:0 format index (low), bit 4 metadata at end of LBA, bits 6:5 index (high) (byte 26). */
    public int flbas() {
        return u8(26);
    }

    public IdentifyNamespace flbas(int v) {
        u8(26, v);
        return this;
    }

    /** Metadata Capabilities (byte 27). */
    public int mc() {
        return u8(27);
    }

    public IdentifyNamespace mc(int v) {
        u8(27, v);
        return this;
    }

    /** End-to-end Data Protection Capabilities (byte 28). */
    public int dpc() {
        return u8(28);
    }

    public IdentifyNamespace dpc(int v) {
        u8(28, v);
        return this;
    }

    /** End-to-end Data Protection Type Settings (byte 29). */
    public int dps() {
        return u8(29);
    }

    public IdentifyNamespace dps(int v) {
        u8(29, v);
        return this;
    }

    /** Namespace Multi-path I/O and Sharing Capabilities: bit 0 may be shared (byte 30). */
    public int nmic() {
        return u8(30);
    }

    public IdentifyNamespace nmic(int v) {
        u8(30, v);
        return this;
    }

    /** Reservation Capabilities (byte 31). */
    public int rescap() {
        return u8(31);
    }

    public IdentifyNamespace rescap(int v) {
        u8(31, v);
        return this;
    }

    /** Format Progress Indicator (byte 32). */
    public int fpi() {
        return u8(32);
    }

    public IdentifyNamespace fpi(int v) {
        u8(32, v);
        return this;
    }

    /** Deallocate Logical Block Features (byte 33). */
    public int dlfeat() {
        return u8(33);
    }

    public IdentifyNamespace dlfeat(int v) {
        u8(33, v);
        return this;
    }

    /** Namespace Atomic Write Unit Normal (0-based) (byte 34). */
    public int nawun() {
        return u16(34);
    }

    public IdentifyNamespace nawun(int v) {
        u16(34, v);
        return this;
    }

    /** Namespace Atomic Write Unit Power Fail (0-based) (byte 36). */
    public int nawupf() {
        return u16(36);
    }

    public IdentifyNamespace nawupf(int v) {
        u16(36, v);
        return this;
    }

    /** Namespace Atomic Compare & Write Unit (0-based) (byte 38). */
    public int nacwu() {
        return u16(38);
    }

    public IdentifyNamespace nacwu(int v) {
        u16(38, v);
        return this;
    }

    /** Namespace Atomic Boundary Size Normal (byte 40). */
    public int nabsn() {
        return u16(40);
    }

    public IdentifyNamespace nabsn(int v) {
        u16(40, v);
        return this;
    }

    /** Namespace Atomic Boundary Offset (byte 42). */
    public int nabo() {
        return u16(42);
    }

    public IdentifyNamespace nabo(int v) {
        u16(42, v);
        return this;
    }

    /** Namespace Atomic Boundary Size Power Fail (byte 44). */
    public int nabspf() {
        return u16(44);
    }

    public IdentifyNamespace nabspf(int v) {
        u16(44, v);
        return this;
    }

    /** Namespace Optimal I/O Boundary (byte 46). */
    public int noiob() {
        return u16(46);
    }

    public IdentifyNamespace noiob(int v) {
        u16(46, v);
        return this;
    }

    /** Namespace Preferred Write Granularity (0-based) (byte 64). */
    public int npwg() {
        return u16(64);
    }

    public IdentifyNamespace npwg(int v) {
        u16(64, v);
        return this;
    }

    /** Namespace Preferred Write Alignment (0-based) (byte 66). */
    public int npwa() {
        return u16(66);
    }

    public IdentifyNamespace npwa(int v) {
        u16(66, v);
        return this;
    }

    /** Namespace Preferred Deallocate Granularity (0-based) (byte 68). */
    public int npdg() {
        return u16(68);
    }

    public IdentifyNamespace npdg(int v) {
        u16(68, v);
        return this;
    }

    /** Namespace Preferred Deallocate Alignment (0-based) (byte 70). */
    public int npda() {
        return u16(70);
    }

    public IdentifyNamespace npda(int v) {
        u16(70, v);
        return this;
    }

    /** Namespace Optimal Write Size (0-based) (byte 72). */
    public int nows() {
        return u16(72);
    }

    public IdentifyNamespace nows(int v) {
        u16(72, v);
        return this;
    }

    /** Maximum Single Source Range Length (Copy) (byte 74). */
    public int mssrl() {
        return u16(74);
    }

    public IdentifyNamespace mssrl(int v) {
        u16(74, v);
        return this;
    }

    /** Maximum Copy Length (byte 76). */
    public int mcl() {
        return u32(76);
    }

    public IdentifyNamespace mcl(int v) {
        u32(76, v);
        return this;
    }

    /** Maximum Source Range Count (0-based) (byte 80). */
    public int msrc() {
        return u8(80);
    }

    public IdentifyNamespace msrc(int v) {
        u8(80, v);
        return this;
    }

    /** ANA Group Identifier (byte 92). */
    public int anagrpid() {
        return u32(92);
    }

    public IdentifyNamespace anagrpid(int v) {
        u32(92, v);
        return this;
    }

    /** Namespace Attributes: bit 0 write protected (byte 99). */
    public int nsattr() {
        return u8(99);
    }

    public IdentifyNamespace nsattr(int v) {
        u8(99, v);
        return this;
    }

    /** NVM Set Identifier (byte 100). */
    public int nvmsetid() {
        return u16(100);
    }

    public IdentifyNamespace nvmsetid(int v) {
        u16(100, v);
        return this;
    }

    /** Endurance Group Identifier (byte 102). */
    public int endgid() {
        return u16(102);
    }

    public IdentifyNamespace endgid(int v) {
        u16(102, v);
        return this;
    }
}
