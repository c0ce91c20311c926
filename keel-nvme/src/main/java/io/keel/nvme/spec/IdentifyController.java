package io.keel.nvme.spec;

/**
 * Identify Controller data structure, CNS 01h (NVMe Base 2.0 figure 275; NVMe-oF 1.1 figure 28 for
 * bytes 1792–2047). 4096 bytes. Strings SN/MN/FR are ASCII, left-justified and space padded;
 * SUBNQN (byte 768, 256 bytes) is NUL-terminated UTF-8. 0-based fields (ACL, AERL, ELPE, NPSS,
 * AWUN, AWUPF, ACWU) are stored as the spec encodes them.
 */
public final class IdentifyController extends Flyweight<IdentifyController> {
    public static final int SIZE = 4096;
    public static final int SUBNQN_OFFSET = 768;
    public static final int PSD_OFFSET = 2048;
    public static final int PSD_SIZE = 32;

    public static final int CNTRLTYPE_IO = 1;
    public static final int CNTRLTYPE_DISCOVERY = 2;
    public static final int CNTRLTYPE_ADMIN = 3;

    public static final int OAES_NAMESPACE_ATTRIBUTE = 1 << 8;
    public static final int OAES_FIRMWARE_ACTIVATION = 1 << 9;
    public static final int OAES_ANA_CHANGE = 1 << 11;
    public static final int OAES_DISCOVERY_LOG_CHANGE = 1 << 31;
    public static final int CTRATT_HOST_ID_128 = 1;

    public static final int LPA_SMART_PER_NAMESPACE = 1;
    public static final int LPA_COMMANDS_EFFECTS = 1 << 1;
    public static final int LPA_EXTENDED_DATA = 1 << 2;
    public static final int LPA_TELEMETRY = 1 << 3;
    public static final int LPA_PERSISTENT_EVENT = 1 << 4;
    public static final int LPA_SUPPORTED_LOG_PAGES = 1 << 5;

    public static final int ONCS_COMPARE = 1;
    public static final int ONCS_WRITE_UNCORRECTABLE = 1 << 1;
    public static final int ONCS_DSM = 1 << 2;
    public static final int ONCS_WRITE_ZEROES = 1 << 3;
    public static final int ONCS_SAVE_FIELD = 1 << 4;
    public static final int ONCS_RESERVATIONS = 1 << 5;
    public static final int ONCS_TIMESTAMP = 1 << 6;
    public static final int ONCS_VERIFY = 1 << 7;
    public static final int ONCS_COPY = 1 << 8;
    public static final int FUSES_COMPARE_AND_WRITE = 1;
    public static final int VWC_PRESENT = 1;

    public static final int SGLS_SUPPORTED = 1;
    public static final int SGLS_KEYED = 1 << 2;
    public static final int SGLS_BIT_BUCKET = 1 << 16;
    public static final int SGLS_OFFSET = 1 << 20;
    public static final int SGLS_TRANSPORT_DATA_BLOCK = 1 << 21;
    public static final int OFCS_DISCONNECT = 1;

    @Override
    public int size() {
        return SIZE;
    }

    /** IEEE OUI (bytes 75:73), least significant byte first: OUI 0x5CD2E4 is stored e4 d2 5c. */
    public int ieee() {
        return Wire.u24(segment, offset + 73);
    }

    public IdentifyController ieee(int v) {
        Wire.u24(segment, offset + 73, v);
        return this;
    }

    /** FRU Globally Unique Identifier (bytes 127:112). */
    public byte[] fguid() {
        return bytes(112, 16);
    }

    /** NVM Subsystem NVMe Qualified Name (bytes 1023:768). */
    public String subnqn() {
        return utf8z(SUBNQN_OFFSET, 256);
    }

    public IdentifyController subnqn(String v) {
        utf8z(SUBNQN_OFFSET, 256, v);
        return this;
    }

    /** Total NVM capacity (bytes 295:280), low 64 bits. */
    public long tnvmcap() {
        return u64(280);
    }

    public IdentifyController tnvmcap(long v) {
        u128(280, v, 0);
        return this;
    }

    /** SQES encoded from log2 sizes: required in bits 3:0, maximum in bits 7:4. */
    public IdentifyController sqes(int minLog2, int maxLog2) {
        return sqes(maxLog2 << 4 | minLog2);
    }

    public IdentifyController cqes(int minLog2, int maxLog2) {
        return cqes(maxLog2 << 4 | minLog2);
    }

    /** Power State {@code n} descriptor: Maximum Power (u16, centiwatts when MXPS = 0) at byte 0. */
    public int psdMaxPower(int n) {
        return u16(psd(n));
    }

    public IdentifyController psdMaxPower(int n, int v) {
        u16(psd(n), v);
        return this;
    }

    /** Power State {@code n} flags byte 3: bit 0 MXPS, bit 1 NOPS (non-operational). */
    public int psdFlags(int n) {
        return u8(psd(n) + 3);
    }

    public IdentifyController psdFlags(int n, int v) {
        u8(psd(n) + 3, v);
        return this;
    }

    public long psdEntryLatency(int n) {
        return u32L(psd(n) + 4);
    }

    public long psdExitLatency(int n) {
        return u32L(psd(n) + 8);
    }

    private static int psd(int n) {
        if (n < 0 || n > 31) {
            throw new IllegalArgumentException("power state " + n);
        }
        return PSD_OFFSET + n * PSD_SIZE;
    }

    /** PCI Vendor ID (byte 0). */
    public int vid() {
        return u16(0);
    }

    public IdentifyController vid(int v) {
        u16(0, v);
        return this;
    }

    /** PCI Subsystem Vendor ID (byte 2). */
    public int ssvid() {
        return u16(2);
    }

    public IdentifyController ssvid(int v) {
        u16(2, v);
        return this;
    }

    /** Serial Number, ASCII, space padded (byte 4). */
    public String sn() {
        return ascii(4, 20);
    }

    public IdentifyController sn(String v) {
        ascii(4, 20, v);
        return this;
    }

    /** Model Number, ASCII, space padded (byte 24). */
    public String mn() {
        return ascii(24, 40);
    }

    public IdentifyController mn(String v) {
        ascii(24, 40, v);
        return this;
    }

    /** Firmware Revision, ASCII, space padded (byte 64). */
    public String fr() {
        return ascii(64, 8);
    }

    public IdentifyController fr(String v) {
        ascii(64, 8, v);
        return this;
    }

    /** Recommended Arbitration Burst (2^n) (byte 72). */
    public int rab() {
        return u8(72);
    }

    public IdentifyController rab(int v) {
        u8(72, v);
        return this;
    }

    /** Controller Multi-Path I/O and Namespace Sharing: bit 0 multiple ports, bit 1 multiple controllers, bit 2 SR-IOV, bit 3 ANA (byte 76). */
    public int cmic() {
        return u8(76);
    }

    public IdentifyController cmic(int v) {
        u8(76, v);
        return this;
    }

    /** Maximum Data Transfer Size as 2^n units of CAP.MPSMIN (0 = no limit) (byte 77). */
    public int mdts() {
        return u8(77);
    }

    public IdentifyController mdts(int v) {
        u8(77, v);
        return this;
    }

    /** Controller ID (byte 78). */
    public int cntlid() {
        return u16(78);
    }

    public IdentifyController cntlid(int v) {
        u16(78, v);
        return this;
    }

    /** Version, same encoding as the VS property (byte 80). */
    public int ver() {
        return u32(80);
    }

    public IdentifyController ver(int v) {
        u32(80, v);
        return this;
    }

    /** RTD3 Resume Latency (us) (byte 84). */
    public int rtd3r() {
        return u32(84);
    }

    public IdentifyController rtd3r(int v) {
        u32(84, v);
        return this;
    }

    /** RTD3 Entry Latency (us) (byte 88). */
    public int rtd3e() {
        return u32(88);
    }

    public IdentifyController rtd3e(int v) {
        u32(88, v);
        return this;
    }

    /** Optional Asynchronous Events Supported: bit 8 namespace attribute, bit 9 firmware activation, bit 11 ANA change, bit 31 discovery log change (byte 92). */
    public int oaes() {
        return u32(92);
    }

    public IdentifyController oaes(int v) {
        u32(92, v);
        return this;
    }

    /** Controller Attributes: bit 0 128-bit host identifier (byte 96). */
    public int ctratt() {
        return u32(96);
    }

    public IdentifyController ctratt(int v) {
        u32(96, v);
        return this;
    }

    /** Read Recovery Levels Supported (byte 100). */
    public int rrls() {
        return u16(100);
    }

    public IdentifyController rrls(int v) {
        u16(100, v);
        return this;
    }

    /** Controller Type: 1 I/O, 2 discovery, 3 administrative (byte 111). */
    public int cntrltype() {
        return u8(111);
    }

    public IdentifyController cntrltype(int v) {
        u8(111, v);
        return this;
    }

    /** Command Retry Delay Time 1 (100 ms units) (byte 128). */
    public int crdt1() {
        return u16(128);
    }

    public IdentifyController crdt1(int v) {
        u16(128, v);
        return this;
    }

    /** Command Retry Delay Time 2 (byte 130). */
    public int crdt2() {
        return u16(130);
    }

    public IdentifyController crdt2(int v) {
        u16(130, v);
        return this;
    }

    /** Command Retry Delay Time 3 (byte 132). */
    public int crdt3() {
        return u16(132);
    }

    public IdentifyController crdt3(int v) {
        u16(132, v);
        return this;
    }

    /** Optional Admin Command Support (byte 256). */
    public int oacs() {
        return u16(256);
    }

    public IdentifyController oacs(int v) {
        u16(256, v);
        return this;
    }

    /** Abort Command Limit (0-based) (byte 258). */
    public int acl() {
        return u8(258);
    }

    public IdentifyController acl(int v) {
        u8(258, v);
        return this;
    }

    /** Asynchronous Event Request Limit (0-based) (byte 259). */
    public int aerl() {
        return u8(259);
    }

    public IdentifyController aerl(int v) {
        u8(259, v);
        return this;
    }

    /** Firmware Updates: bit 0 slot 1 read-only, bits 3:1 number of slots, bit 4 activation without reset (byte 260). */
    public int frmw() {
        return u8(260);
    }

    public IdentifyController frmw(int v) {
        u8(260, v);
        return this;
    }

    /** Log Page Attributes: bit 0 per-namespace SMART, bit 1 commands effects, bit 2 extended data, bit 3 telemetry, bit 4 persistent event, bit 5 supported log pages / FID effects / MI effects (byte 261). */
    public int lpa() {
        return u8(261);
    }

    public IdentifyController lpa(int v) {
        u8(261, v);
        return this;
    }

    /** Error Log Page Entries (0-based) (byte 262). */
    public int elpe() {
        return u8(262);
    }

    public IdentifyController elpe(int v) {
        u8(262, v);
        return this;
    }

    /** Number of Power States Support (0-based) (byte 263). */
    public int npss() {
        return u8(263);
    }

    public IdentifyController npss(int v) {
        u8(263, v);
        return this;
    }

    /** Admin Vendor Specific Command Configuration (byte 264). */
    public int avscc() {
        return u8(264);
    }

    public IdentifyController avscc(int v) {
        u8(264, v);
        return this;
    }

    /** Autonomous Power State Transition Attributes (byte 265). */
    public int apsta() {
        return u8(265);
    }

    public IdentifyController apsta(int v) {
        u8(265, v);
        return this;
    }

    /** Warning Composite Temperature Threshold (K) (byte 266). */
    public int wctemp() {
        return u16(266);
    }

    public IdentifyController wctemp(int v) {
        u16(266, v);
        return this;
    }

    /** Critical Composite Temperature Threshold (K) (byte 268). */
    public int cctemp() {
        return u16(268);
    }

    public IdentifyController cctemp(int v) {
        u16(268, v);
        return this;
    }

    /** Maximum Time for Firmware Activation (byte 270). */
    public int mtfa() {
        return u16(270);
    }

    public IdentifyController mtfa(int v) {
        u16(270, v);
        return this;
    }

    /** Host Memory Buffer Preferred Size (byte 272). */
    public int hmpre() {
        return u32(272);
    }

    public IdentifyController hmpre(int v) {
        u32(272, v);
        return this;
    }

    /** Host Memory Buffer Minimum Size (byte 276). */
    public int hmmin() {
        return u32(276);
    }

    public IdentifyController hmmin(int v) {
        u32(276, v);
        return this;
    }

    /** Replay Protected Memory Block Support (byte 312). */
    public int rpmbs() {
        return u32(312);
    }

    public IdentifyController rpmbs(int v) {
        u32(312, v);
        return this;
    }

    /** Extended Device Self-test Time (byte 316). */
    public int edstt() {
        return u16(316);
    }

    public IdentifyController edstt(int v) {
        u16(316, v);
        return this;
    }

    /** Device Self-test Options (byte 318). */
    public int dsto() {
        return u8(318);
    }

    public IdentifyController dsto(int v) {
        u8(318, v);
        return this;
    }

    /** Firmware Update Granularity (byte 319). */
    public int fwug() {
        return u8(319);
    }

    public IdentifyController fwug(int v) {
        u8(319, v);
        return this;
    }

    /** Keep Alive Support: granularity in 100 ms units (0 = not supported) (byte 320). */
    public int kas() {
        return u16(320);
    }

    public IdentifyController kas(int v) {
        u16(320, v);
        return this;
    }

    /** Host Controlled Thermal Management Attributes (byte 322). */
    public int hctma() {
        return u16(322);
    }

    public IdentifyController hctma(int v) {
        u16(322, v);
        return this;
    }

    /** Sanitize Capabilities (byte 328). */
    public int sanicap() {
        return u32(328);
    }

    public IdentifyController sanicap(int v) {
        u32(328, v);
        return this;
    }

    /** ANA Transition Time (byte 342). */
    public int anatt() {
        return u8(342);
    }

    public IdentifyController anatt(int v) {
        u8(342, v);
        return this;
    }

    /** ANA Capabilities (byte 343). */
    public int anacap() {
        return u8(343);
    }

    public IdentifyController anacap(int v) {
        u8(343, v);
        return this;
    }

    /** ANA Group Identifier Maximum (byte 344). */
    public int anagrpmax() {
        return u32(344);
    }

    public IdentifyController anagrpmax(int v) {
        u32(344, v);
        return this;
    }

    /** Number of ANA Group Identifiers (byte 348). */
    public int nanagrpid() {
        return u32(348);
    }

    public IdentifyController nanagrpid(int v) {
        u32(348, v);
        return this;
    }

    /** Persistent Event Log Size (byte 352). */
    public int pels() {
        return u32(352);
    }

    public IdentifyController pels(int v) {
        u32(352, v);
        return this;
    }

    /** Submission Queue Entry Size: bits 3:0 required (2^n), bits 7:4 maximum (byte 512). */
    public int sqes() {
        return u8(512);
    }

    public IdentifyController sqes(int v) {
        u8(512, v);
        return this;
    }

    /** Completion Queue Entry Size: bits 3:0 required, bits 7:4 maximum (byte 513). */
    public int cqes() {
        return u8(513);
    }

    public IdentifyController cqes(int v) {
        u8(513, v);
        return this;
    }

    /** Maximum Outstanding Commands (byte 514). */
    public int maxcmd() {
        return u16(514);
    }

    public IdentifyController maxcmd(int v) {
        u16(514, v);
        return this;
    }

    /** Number of Namespaces (maximum valid NSID) (byte 516). */
    public int nn() {
        return u32(516);
    }

    public IdentifyController nn(int v) {
        u32(516, v);
        return this;
    }

    /** Optional NVM Command Support: bit 0 Compare, 1 Write Uncorrectable, 2 DSM, 3 Write Zeroes, 4 Save field, 5 Reservations, 6 Timestamp, 7 Verify, 8 Copy (byte 520). */
    public int oncs() {
        return u16(520);
    }

    public IdentifyController oncs(int v) {
        u16(520, v);
        return this;
    }

    /** Fused Operation Support: bit 0 Compare and Write (byte 522). */
    public int fuses() {
        return u16(522);
    }

    public IdentifyController fuses(int v) {
        u16(522, v);
        return this;
    }

    /** Format NVM Attributes (byte 524). */
    public int fna() {
        return u8(524);
    }

    public IdentifyController fna(int v) {
        u8(524, v);
        return this;
    }

    /** Volatile Write Cache: bit 0 present, bits 2:1 flush behavior with NSID FFFFFFFFh (byte 525). */
    public int vwc() {
        return u8(525);
    }

    public IdentifyController vwc(int v) {
        u8(525, v);
        return this;
    }

    /** Atomic Write Unit Normal (0-based) (byte 526). */
    public int awun() {
        return u16(526);
    }

    public IdentifyController awun(int v) {
        u16(526, v);
        return this;
    }

    /** Atomic Write Unit Power Fail (0-based) (byte 528). */
    public int awupf() {
        return u16(528);
    }

    public IdentifyController awupf(int v) {
        u16(528, v);
        return this;
    }

    /** I/O Command Set Vendor Specific Command Configuration (byte 530). */
    public int icsvscc() {
        return u8(530);
    }

    public IdentifyController icsvscc(int v) {
        u8(530, v);
        return this;
    }

    /** Namespace Write Protection Capabilities (byte 531). */
    public int nwpc() {
        return u8(531);
    }

    public IdentifyController nwpc(int v) {
        u8(531, v);
        return this;
    }

    /** Atomic Compare & Write Unit (0-based) (byte 532). */
    public int acwu() {
        return u16(532);
    }

    public IdentifyController acwu(int v) {
        u16(532, v);
        return this;
    }

    /** Copy Descriptor Formats Supported (byte 534). */
    public int ocfs() {
        return u16(534);
    }

    public IdentifyController ocfs(int v) {
        u16(534, v);
        return this;
    }

    /** SGL Support: bits 1:0 SGLs supported, bit 2 keyed SGL data block, bit 16 bit bucket, bit 20 offset, bit 21 transport SGL data block (byte 536). */
    public int sgls() {
        return u32(536);
    }

    public IdentifyController sgls(int v) {
        u32(536, v);
        return this;
    }

    /** Maximum Number of Allowed Namespaces (byte 540). */
    public int mnan() {
        return u32(540);
    }

    public IdentifyController mnan(int v) {
        u32(540, v);
        return this;
    }

    /** Maximum I/O Controller Namespace Attachments (byte 560). */
    public int maxcna() {
        return u32(560);
    }

    public IdentifyController maxcna(int v) {
        u32(560, v);
        return this;
    }

    /** NVMe-oF I/O Queue Command Capsule Supported Size, in 16-byte units (>= 4) (byte 1792). */
    public int ioccsz() {
        return u32(1792);
    }

    public IdentifyController ioccsz(int v) {
        u32(1792, v);
        return this;
    }

    /** NVMe-oF I/O Queue Response Capsule Supported Size, in 16-byte units (>= 1) (byte 1796). */
    public int iorcsz() {
        return u32(1796);
    }

    public IdentifyController iorcsz(int v) {
        u32(1796, v);
        return this;
    }

    /** NVMe-oF In Capsule Data Offset, in 16-byte units after the SQE (byte 1800). */
    public int icdoff() {
        return u16(1800);
    }

    public IdentifyController icdoff(int v) {
        u16(1800, v);
        return this;
    }

    /** NVMe-oF Fabrics Controller Attributes: bit 0 static controller model (byte 1802). */
    public int fcatt() {
        return u8(1802);
    }

    public IdentifyController fcatt(int v) {
        u8(1802, v);
        return this;
    }

    /** NVMe-oF Maximum SGL Data Block Descriptors (byte 1803). */
    public int msdbd() {
        return u8(1803);
    }

    public IdentifyController msdbd(int v) {
        u8(1803, v);
        return this;
    }

    /** NVMe-oF Optional Fabric Commands Support: bit 0 Disconnect (byte 1804). */
    public int ofcs() {
        return u16(1804);
    }

    public IdentifyController ofcs(int v) {
        u16(1804, v);
        return this;
    }
}
