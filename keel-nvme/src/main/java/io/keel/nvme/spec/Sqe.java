package io.keel.nvme.spec;

import java.lang.foreign.MemorySegment;

/**
 * The 64-byte submission queue entry (NVMe Base 2.0 figure 88; NVMe-oF 1.1 figure 11 for Fabrics
 * commands). Common fields are accessors on this class; command-specific dwords are read through
 * typed views ({@link #rw()}, {@link #identify()}, {@link #connect()}, ...) that are created once
 * with the Sqe and always look at whatever it currently wraps, so nothing allocates per command.
 *
 * <pre>
 * 0 OPC | 1 FUSE(1:0) PSDT(7:6) | 2 CID u16 | 4 NSID (Fabrics: FCTYPE at byte 4) | 8 CDW2 | 12 CDW3
 * 16 MPTR u64 | 24 DPTR: PRP1/PRP2 or SGL1 (16 bytes) | 40 CDW10 | 44 CDW11 | ... | 60 CDW15
 * </pre>
 */
public final class Sqe extends Flyweight<Sqe> {
    public static final int SIZE = 64;

    public static final int FUSE_NORMAL = 0;
    public static final int FUSE_FIRST = 1;
    public static final int FUSE_SECOND = 2;
    public static final int PSDT_PRP = 0;
    public static final int PSDT_SGL_MPTR_CONTIGUOUS = 1;
    public static final int PSDT_SGL_MPTR_SGL = 2;

    static final int CDW10 = 40;

    private final SglDescriptor sgl = new SglDescriptor();
    private final ReadWrite rw = new ReadWrite();
    private final Identify identify = new Identify();
    private final Features features = new Features();
    private final GetLogPage getLogPage = new GetLogPage();
    private final Abort abort = new Abort();
    private final Dsm dsm = new Dsm();
    private final Fabrics fabrics = new Fabrics();
    private final Connect connect = new Connect();
    private final Property property = new Property();

    @Override
    public int size() {
        return SIZE;
    }

    @Override
    public Sqe wrap(MemorySegment segment, long offset) {
        super.wrap(segment, offset);
        sgl.wrap(segment, offset + 24);
        return this;
    }

    public int opcode() {
        return u8(0);
    }

    public Sqe opcode(int v) {
        u8(0, v);
        return this;
    }

    public int flags() {
        return u8(1);
    }

    public Sqe flags(int v) {
        u8(1, v);
        return this;
    }

    /** Fused operation, bits 1:0 of byte 1. */
    public int fuse() {
        return u8(1) & 0x3;
    }

    public Sqe fuse(int v) {
        u8(1, Wire.withBits(u8(1), 0, 2, v));
        return this;
    }

    /** PRP or SGL for data transfer, bits 7:6 of byte 1 (NVMe-oF requires SGLs: 01b). */
    public int psdt() {
        return u8(1) >>> 6;
    }

    public Sqe psdt(int v) {
        u8(1, Wire.withBits(u8(1), 6, 2, v));
        return this;
    }

    public int cid() {
        return u16(2);
    }

    public Sqe cid(int v) {
        u16(2, v);
        return this;
    }

    public int nsid() {
        return u32(4);
    }

    public Sqe nsid(int v) {
        u32(4, v);
        return this;
    }

    public int cdw2() {
        return u32(8);
    }

    public Sqe cdw2(int v) {
        u32(8, v);
        return this;
    }

    public int cdw3() {
        return u32(12);
    }

    public Sqe cdw3(int v) {
        u32(12, v);
        return this;
    }

    public long mptr() {
        return u64(16);
    }

    public Sqe mptr(long v) {
        u64(16, v);
        return this;
    }

    public long prp1() {
        return u64(24);
    }

    public Sqe prp1(long v) {
        u64(24, v);
        return this;
    }

    public long prp2() {
        return u64(32);
    }

    public Sqe prp2(long v) {
        u64(32, v);
        return this;
    }

    /** SGL entry 1 in the data pointer (bytes 39:24). */
    public SglDescriptor sgl() {
        return sgl;
    }

    /** Command dword {@code n} for n in 10..15. */
    public int cdw(int n) {
        if (n < 10 || n > 15) {
            throw new IllegalArgumentException("cdw" + n);
        }
        return u32(CDW10 + (n - 10) * 4);
    }

    public Sqe cdw(int n, int v) {
        if (n < 10 || n > 15) {
            throw new IllegalArgumentException("cdw" + n);
        }
        u32(CDW10 + (n - 10) * 4, v);
        return this;
    }

    public int cdw10() {
        return u32(40);
    }

    public Sqe cdw10(int v) {
        u32(40, v);
        return this;
    }

    public int cdw11() {
        return u32(44);
    }

    public Sqe cdw11(int v) {
        u32(44, v);
        return this;
    }

    public int cdw12() {
        return u32(48);
    }

    public Sqe cdw12(int v) {
        u32(48, v);
        return this;
    }

    public int cdw13() {
        return u32(52);
    }

    public Sqe cdw13(int v) {
        u32(52, v);
        return this;
    }

    public int cdw14() {
        return u32(56);
    }

    public Sqe cdw14(int v) {
        u32(56, v);
        return this;
    }

    public int cdw15() {
        return u32(60);
    }

    public Sqe cdw15(int v) {
        u32(60, v);
        return this;
    }

    /** Read, Write, Compare, Write Zeroes (and Verify, Write Uncorrectable) view. */
    public ReadWrite rw() {
        return rw;
    }

    public Identify identify() {
        return identify;
    }

    /** Get Features / Set Features view. */
    public Features features() {
        return features;
    }

    public GetLogPage getLogPage() {
        return getLogPage;
    }

    public Abort abort() {
        return abort;
    }

    public Dsm dsm() {
        return dsm;
    }

    /** Fabrics command header (opcode 0x7F, FCTYPE) — see also {@link #connect()}, {@link #property()}. */
    public Fabrics fabrics() {
        return fabrics;
    }

    public Connect connect() {
        return connect;
    }

    /** Property Get / Property Set view. */
    public Property property() {
        return property;
    }

    /**
     * Read/Write/Compare/Write Zeroes: CDW10–11 SLBA, CDW12 NLB (bits 15:0, 0-based), DTYPE (23:20),
     * STC (24, Write), DEAC (25, Write Zeroes), PRINFO (29:26), FUA (30), LR (31); CDW13 DSM.
     */
    public final class ReadWrite {
        private ReadWrite() {
        }

        public long slba() {
            return u64(40);
        }

        public ReadWrite slba(long v) {
            u64(40, v);
            return this;
        }

        /** NLB as on the wire: number of logical blocks minus one. */
        public int nlb() {
            return u16(48);
        }

        public ReadWrite nlb(int v) {
            u16(48, v);
            return this;
        }

        /** Number of logical blocks (NLB + 1). */
        public int blockCount() {
            return u16(48) + 1;
        }

        /** Sets NLB to {@code blocks - 1}; {@code blocks} in 1..65536. */
        public ReadWrite blockCount(int blocks) {
            if (blocks < 1 || blocks > 0x10000) {
                throw new IllegalArgumentException("block count " + blocks);
            }
            u16(48, blocks - 1);
            return this;
        }

        public boolean fua() {
            return (u32(48) & 1 << 30) != 0;
        }

        public ReadWrite fua(boolean v) {
            u32(48, Wire.withBits(u32(48), 30, 1, v ? 1 : 0));
            return this;
        }

        public boolean limitedRetry() {
            return (u32(48) & 1 << 31) != 0;
        }

        public ReadWrite limitedRetry(boolean v) {
            u32(48, Wire.withBits(u32(48), 31, 1, v ? 1 : 0));
            return this;
        }

        public int prinfo() {
            return Wire.bits(u32(48), 26, 4);
        }

        public ReadWrite prinfo(int v) {
            u32(48, Wire.withBits(u32(48), 26, 4, v));
            return this;
        }

        /** Write Zeroes: deallocate (CDW12 bit 25). */
        public boolean deac() {
            return (u32(48) & 1 << 25) != 0;
        }

        public ReadWrite deac(boolean v) {
            u32(48, Wire.withBits(u32(48), 25, 1, v ? 1 : 0));
            return this;
        }

        public int dtype() {
            return Wire.bits(u32(48), 20, 4);
        }

        public ReadWrite dtype(int v) {
            u32(48, Wire.withBits(u32(48), 20, 4, v));
            return this;
        }

        /** Dataset management hints, CDW13 bits 7:0. */
        public int dsm() {
            return u8(52);
        }

        public ReadWrite dsm(int v) {
            u8(52, v);
            return this;
        }
    }

    /** Identify: CDW10 CNS (7:0), CNTID (31:16); CDW11 CNSSID (15:0), CSI (31:24). NSID in the header. */
    public final class Identify {
        private Identify() {
        }

        public int cns() {
            return u8(40);
        }

        public Identify cns(int v) {
            u8(40, v);
            return this;
        }

        public int cntid() {
            return u16(42);
        }

        public Identify cntid(int v) {
            u16(42, v);
            return this;
        }

        public int cnssid() {
            return u16(44);
        }

        public Identify cnssid(int v) {
            u16(44, v);
            return this;
        }

        public int csi() {
            return u8(47);
        }

        public Identify csi(int v) {
            u8(47, v);
            return this;
        }
    }

    /**
     * Get/Set Features: CDW10 FID (7:0), SEL (10:8, Get) or SV (31, Set); CDW11 the feature value;
     * CDW14 UUID index (6:0).
     */
    public final class Features {
        private Features() {
        }

        public int fid() {
            return u8(40);
        }

        public Features fid(int v) {
            u8(40, v);
            return this;
        }

        /** Get Features select: 0 current, 1 default, 2 saved, 3 supported capabilities. */
        public int sel() {
            return Wire.bits(u32(40), 8, 3);
        }

        public Features sel(int v) {
            u32(40, Wire.withBits(u32(40), 8, 3, v));
            return this;
        }

        /** Set Features save. */
        public boolean sv() {
            return (u32(40) & 1 << 31) != 0;
        }

        public Features sv(boolean v) {
            u32(40, Wire.withBits(u32(40), 31, 1, v ? 1 : 0));
            return this;
        }

        /** CDW11: the feature-specific value (e.g. Number of Queues NSQR 15:0 / NCQR 31:16, KATO in ms). */
        public int value() {
            return u32(44);
        }

        public Features value(int v) {
            u32(44, v);
            return this;
        }

        public int uuidIndex() {
            return u8(56) & 0x7F;
        }

        public Features uuidIndex(int v) {
            u8(56, v & 0x7F);
            return this;
        }
    }

    /**
     * Get Log Page: CDW10 LID (7:0), LSP (14:8), RAE (15), NUMDL (31:16); CDW11 NUMDU (15:0), LSI
     * (31:16); CDW12/13 LPOL/LPOU; CDW14 UUID index (6:0), OT (23), CSI (31:24). NUMD is 0-based dwords.
     */
    public final class GetLogPage {
        private GetLogPage() {
        }

        public int lid() {
            return u8(40);
        }

        public GetLogPage lid(int v) {
            u8(40, v);
            return this;
        }

        public int lsp() {
            return u8(41) & 0x7F;
        }

        public GetLogPage lsp(int v) {
            u8(41, (u8(41) & 0x80) | (v & 0x7F));
            return this;
        }

        public boolean rae() {
            return (u8(41) & 0x80) != 0;
        }

        public GetLogPage rae(boolean v) {
            u8(41, (u8(41) & 0x7F) | (v ? 0x80 : 0));
            return this;
        }

        public int numdl() {
            return u16(42);
        }

        public GetLogPage numdl(int v) {
            u16(42, v);
            return this;
        }

        public int numdu() {
            return u16(44);
        }

        public GetLogPage numdu(int v) {
            u16(44, v);
            return this;
        }

        /** NUMDU:NUMDL as on the wire (0-based number of dwords). */
        public long numd() {
            return (long) u16(44) << 16 | u16(42);
        }

        /** Bytes requested: (NUMD + 1) * 4. */
        public long lengthBytes() {
            return (numd() + 1) * 4;
        }

        /** Sets NUMDL/NUMDU for {@code bytes} (a positive multiple of 4). */
        public GetLogPage lengthBytes(long bytes) {
            if (bytes < 4 || (bytes & 3) != 0 || bytes > (1L << 34)) {
                throw new IllegalArgumentException("log page length " + bytes);
            }
            long numd = bytes / 4 - 1;
            u16(42, (int) numd);
            u16(44, (int) (numd >>> 16));
            return this;
        }

        public int lsi() {
            return u16(46);
        }

        public GetLogPage lsi(int v) {
            u16(46, v);
            return this;
        }

        /** Log page offset in bytes (LPOU:LPOL). */
        public long lpo() {
            return u64(48);
        }

        public GetLogPage lpo(long v) {
            u64(48, v);
            return this;
        }

        public int uuidIndex() {
            return u8(56) & 0x7F;
        }

        public GetLogPage uuidIndex(int v) {
            u8(56, v & 0x7F);
            return this;
        }

        /** Offset type: the offset is an index (of entries) rather than bytes. */
        public boolean ot() {
            return (u8(58) & 0x80) != 0;
        }

        public GetLogPage ot(boolean v) {
            u8(58, (u8(58) & 0x7F) | (v ? 0x80 : 0));
            return this;
        }

        public int csi() {
            return u8(59);
        }

        public GetLogPage csi(int v) {
            u8(59, v);
            return this;
        }
    }

    /** Abort: CDW10 SQID (15:0), CID (31:16). */
    public final class Abort {
        private Abort() {
        }

        public int sqid() {
            return u16(40);
        }

        public Abort sqid(int v) {
            u16(40, v);
            return this;
        }

        public int cid() {
            return u16(42);
        }

        public Abort cid(int v) {
            u16(42, v);
            return this;
        }
    }

    /**
     * Dataset Management: CDW10 NR (7:0, 0-based number of ranges); CDW11 IDR (0), IDW (1), AD (2).
     * The ranges ({@link DsmRange}, 16 bytes each) are the command's data.
     */
    public final class Dsm {
        private Dsm() {
        }

        public int nr() {
            return u8(40);
        }

        public Dsm nr(int v) {
            u8(40, v);
            return this;
        }

        public int rangeCount() {
            return u8(40) + 1;
        }

        public Dsm rangeCount(int n) {
            if (n < 1 || n > 256) {
                throw new IllegalArgumentException("range count " + n);
            }
            u8(40, n - 1);
            return this;
        }

        public boolean integralRead() {
            return (u32(44) & 1) != 0;
        }

        public boolean integralWrite() {
            return (u32(44) & 2) != 0;
        }

        public boolean deallocate() {
            return (u32(44) & 4) != 0;
        }

        public Dsm attributes(boolean idr, boolean idw, boolean ad) {
            u32(44, (u32(44) & ~7) | (idr ? 1 : 0) | (idw ? 2 : 0) | (ad ? 4 : 0));
            return this;
        }
    }

    /** Fabrics command header: opcode 0x7F, CID at 2, FCTYPE at byte 4 (bytes 23:5 reserved). */
    public final class Fabrics {
        private Fabrics() {
        }

        public boolean isFabrics() {
            return u8(0) == Opcode.FABRICS;
        }

        public int fctype() {
            return u8(4);
        }

        public Fabrics fctype(int v) {
            u8(4, v);
            return this;
        }

        /** Writes a Fabrics header: opcode 0x7F, SGL data pointer, {@code cid} and {@code fctype}. */
        public Fabrics init(int fctype, int cid) {
            opcode(Opcode.FABRICS);
            u8(1, 0);
            cid(cid);
            u8(4, fctype);
            return this;
        }
    }

    /**
     * Connect (FCTYPE 0x01, NVMe-oF 1.1 figure 19): RECFMT u16 at 40, QID u16 at 42, SQSIZE u16 at 44
     * (0-based), CATTR at 46, KATO u32 at 48 (ms). Data: 1024-byte {@link ConnectData}.
     * Disconnect (FCTYPE 0x08) has RECFMT at 40 too.
     */
    public final class Connect {
        /** CATTR bits 1:0: submission queue priority class. */
        public static final int CATTR_PRIORITY_MASK = 0x3;
        /** CATTR bit 2: SQ flow control disabled (the controller need not report SQHD). */
        public static final int CATTR_DISABLE_SQ_FLOW_CONTROL = 0x4;

        private Connect() {
        }

        public int recfmt() {
            return u16(40);
        }

        public Connect recfmt(int v) {
            u16(40, v);
            return this;
        }

        public int qid() {
            return u16(42);
        }

        public Connect qid(int v) {
            u16(42, v);
            return this;
        }

        /** SQSIZE as on the wire (0-based). */
        public int sqsize() {
            return u16(44);
        }

        public Connect sqsize(int v) {
            u16(44, v);
            return this;
        }

        public int cattr() {
            return u8(46);
        }

        public Connect cattr(int v) {
            u8(46, v);
            return this;
        }

        /** Keep alive timeout in milliseconds (0 disables). */
        public long kato() {
            return u32L(48);
        }

        public Connect kato(long v) {
            u32(48, (int) v);
            return this;
        }
    }

    /**
     * Property Get (0x04) / Property Set (0x00), NVMe-oF 1.1 figures 23 and 25: ATTRIB at 40 (bits
     * 2:0 size: 0 = 4 bytes, 1 = 8 bytes), OFST u32 at 44, VALUE u64 at 48 (Set only).
     */
    public final class Property {
        public static final int SIZE_4 = 0;
        public static final int SIZE_8 = 1;

        private Property() {
        }

        public int attrib() {
            return u8(40);
        }

        public Property attrib(int v) {
            u8(40, v);
            return this;
        }

        /** Property size in bytes from ATTRIB (4 or 8). */
        public int sizeBytes() {
            return (u8(40) & 0x7) == SIZE_8 ? 8 : 4;
        }

        public Property sizeBytes(int bytes) {
            if (bytes != 4 && bytes != 8) {
                throw new IllegalArgumentException("property size " + bytes);
            }
            u8(40, bytes == 8 ? SIZE_8 : SIZE_4);
            return this;
        }

        public int ofst() {
            return u32(44);
        }

        public Property ofst(int v) {
            u32(44, v);
            return this;
        }

        public long value() {
            return u64(48);
        }

        public Property value(long v) {
            u64(48, v);
            return this;
        }
    }
}
