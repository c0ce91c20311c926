package io.keel.nvme.spec;

/**
 * Controller properties (NVMe Base 2.0 §3.1.4, figure 35) as Property Get/Set address them over
 * Fabrics, with encoders/decoders for the registers a Fabrics controller implements: CAP, VS, CC,
 * CSTS (and NSSR). Values are plain {@code long}/{@code int} register images.
 */
public final class Properties {
    private Properties() {
    }

    public static final int CAP = 0x00;
    public static final int VS = 0x08;
    public static final int INTMS = 0x0C;
    public static final int INTMC = 0x10;
    public static final int CC = 0x14;
    public static final int CSTS = 0x1C;
    public static final int NSSR = 0x20;
    public static final int AQA = 0x24;
    public static final int ASQ = 0x28;
    public static final int ACQ = 0x30;

    /** Size in bytes of the property at {@code offset}: 8 for CAP/ASQ/ACQ, 4 for the others, -1 if unknown. */
    public static int sizeOf(int offset) {
        return switch (offset) {
            case CAP, ASQ, ACQ -> 8;
            case VS, INTMS, INTMC, CC, CSTS, NSSR, AQA -> 4;
            default -> -1;
        };
    }

    /** NSSR value that requests an NVM subsystem reset ("NVMe"). */
    public static final int NSSR_RESET = 0x4E564D65;

    // ---- VS ----
    public static final int VS_1_3 = version(1, 3, 0);
    public static final int VS_1_4 = version(1, 4, 0);
    public static final int VS_2_0 = version(2, 0, 0);

    /** VS: MJR bits 31:16, MNR 15:8, TER 7:0. */
    public static int version(int major, int minor, int tertiary) {
        return (major & 0xFFFF) << 16 | (minor & 0xFF) << 8 | (tertiary & 0xFF);
    }

    public static int versionMajor(int vs) {
        return vs >>> 16;
    }

    public static int versionMinor(int vs) {
        return (vs >>> 8) & 0xFF;
    }

    /** CAP (8 bytes). */
    public static final class Cap {
        private Cap() {
        }

        public static final int CSS_NVM = 1;
        public static final int CSS_IO_COMMAND_SETS = 1 << 6;
        public static final int CSS_ADMIN_ONLY = 1 << 7;

        /**
         * Builds CAP. {@code mqes} is the 0-based maximum queue entries (bits 15:0), {@code to} the
         * ready timeout in 500 ms units (31:24), {@code css} the command sets (44:37), {@code mpsmin}
         * and {@code mpsmax} the page sizes as 2^(12+n) (51:48, 55:52).
         */
        public static long of(int mqes, boolean cqr, int ams, int to, int dstrd, boolean nssrs, int css,
                int mpsmin, int mpsmax) {
            long v = mqes & 0xFFFFL;
            v |= (cqr ? 1L : 0) << 16;
            v |= (ams & 0x3L) << 17;
            v |= (to & 0xFFL) << 24;
            v |= (dstrd & 0xFL) << 32;
            v |= (nssrs ? 1L : 0) << 36;
            v |= (css & 0xFFL) << 37;
            v |= (mpsmin & 0xFL) << 48;
            v |= (mpsmax & 0xFL) << 52;
            return v;
        }

        public static int mqes(long cap) {
            return (int) (cap & 0xFFFF);
        }

        public static boolean cqr(long cap) {
            return (cap >>> 16 & 1) != 0;
        }

        public static int ams(long cap) {
            return (int) Wire.bits(cap, 17, 2);
        }

        /** Ready timeout in 500 ms units. */
        public static int to(long cap) {
            return (int) Wire.bits(cap, 24, 8);
        }

        public static int dstrd(long cap) {
            return (int) Wire.bits(cap, 32, 4);
        }

        public static boolean nssrs(long cap) {
            return (cap >>> 36 & 1) != 0;
        }

        public static int css(long cap) {
            return (int) Wire.bits(cap, 37, 8);
        }

        public static boolean bps(long cap) {
            return (cap >>> 45 & 1) != 0;
        }

        public static int mpsmin(long cap) {
            return (int) Wire.bits(cap, 48, 4);
        }

        public static int mpsmax(long cap) {
            return (int) Wire.bits(cap, 52, 4);
        }

        public static boolean pmrs(long cap) {
            return (cap >>> 56 & 1) != 0;
        }

        public static boolean cmbs(long cap) {
            return (cap >>> 57 & 1) != 0;
        }
    }

    /** CC (4 bytes). */
    public static final class Cc {
        private Cc() {
        }

        public static final int SHN_NONE = 0;
        public static final int SHN_NORMAL = 1;
        public static final int SHN_ABRUPT = 2;

        public static int of(boolean en, int css, int mps, int ams, int shn, int iosqes, int iocqes) {
            int v = en ? 1 : 0;
            v |= (css & 0x7) << 4;
            v |= (mps & 0xF) << 7;
            v |= (ams & 0x7) << 11;
            v |= (shn & 0x3) << 14;
            v |= (iosqes & 0xF) << 16;
            v |= (iocqes & 0xF) << 20;
            return v;
        }

        public static boolean en(int cc) {
            return (cc & 1) != 0;
        }

        public static int css(int cc) {
            return Wire.bits(cc, 4, 3);
        }

        /** Memory page size as 2^(12+MPS). */
        public static int mps(int cc) {
            return Wire.bits(cc, 7, 4);
        }

        public static int ams(int cc) {
            return Wire.bits(cc, 11, 3);
        }

        public static int shn(int cc) {
            return Wire.bits(cc, 14, 2);
        }

        /** I/O SQ entry size as log2 (6 for 64 bytes). */
        public static int iosqes(int cc) {
            return Wire.bits(cc, 16, 4);
        }

        /** I/O CQ entry size as log2 (4 for 16 bytes). */
        public static int iocqes(int cc) {
            return Wire.bits(cc, 20, 4);
        }

        public static boolean crime(int cc) {
            return (cc >>> 24 & 1) != 0;
        }
    }

    /** CSTS (4 bytes). */
    public static final class Csts {
        private Csts() {
        }

        public static final int RDY = 1;
        public static final int CFS = 1 << 1;
        public static final int SHST_NORMAL = 0;
        public static final int SHST_OCCURRING = 1;
        public static final int SHST_COMPLETE = 2;
        public static final int NSSRO = 1 << 4;
        public static final int PP = 1 << 5;
        public static final int ST = 1 << 6;

        public static int of(boolean rdy, boolean cfs, int shst) {
            return (rdy ? RDY : 0) | (cfs ? CFS : 0) | (shst & 0x3) << 2;
        }

        public static boolean rdy(int csts) {
            return (csts & RDY) != 0;
        }

        public static boolean cfs(int csts) {
            return (csts & CFS) != 0;
        }

        public static int shst(int csts) {
            return Wire.bits(csts, 2, 2);
        }
    }
}
