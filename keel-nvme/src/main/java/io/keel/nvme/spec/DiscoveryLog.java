package io.keel.nvme.spec;

/**
 * Discovery log page (LID 70h, NVMe-oF 1.1 figures 31–33): a 1024-byte header — GENCTR u64 at 0,
 * NUMREC u64 at 8, RECFMT u16 at 16 — followed by NUMREC 1024-byte entries. Wrap the header with
 * this class (its {@link #size()} is the header only) and each entry with {@link Entry}.
 */
public final class DiscoveryLog extends Flyweight<DiscoveryLog> {
    public static final int HEADER_SIZE = 1024;
    public static final int ENTRY_SIZE = 1024;

    public static final int TRTYPE_RDMA = 1;
    public static final int TRTYPE_FC = 2;
    public static final int TRTYPE_TCP = 3;
    public static final int TRTYPE_LOOP = 254;
    public static final int ADRFAM_IPV4 = 1;
    public static final int ADRFAM_IPV6 = 2;
    public static final int ADRFAM_IB = 3;
    public static final int ADRFAM_FC = 4;
    public static final int ADRFAM_INTRA_HOST = 254;
    /** Referral to another discovery service. */
    public static final int SUBTYPE_DISCOVERY_REFERRAL = 1;
    public static final int SUBTYPE_NVM = 2;
    /** The discovery subsystem the host is talking to (SPDK reports itself this way). */
    public static final int SUBTYPE_CURRENT_DISCOVERY = 3;
    /** TREQ bits 1:0, secure channel. */
    public static final int TREQ_SECURE_NOT_SPECIFIED = 0;
    public static final int TREQ_SECURE_REQUIRED = 1;
    public static final int TREQ_SECURE_NOT_REQUIRED = 2;
    /** TREQ bit 2: SQ flow control disable supported. */
    public static final int TREQ_DISABLE_SQFLOW = 1 << 2;
    public static final int EFLAGS_DUPLICATE_RETURNED_INFO = 1;
    public static final int EFLAGS_EXPLICIT_PERSISTENT_CONNECTION = 1 << 1;
    /** TSAS for TCP, byte 0: security type. */
    public static final int TCP_SECTYPE_NONE = 0;
    public static final int TCP_SECTYPE_TLS12 = 1;
    public static final int TCP_SECTYPE_TLS13 = 2;
    /** TSAS for RDMA: byte 0 QP type, byte 1 provider type, byte 2 connection management service. */
    public static final int RDMA_QPTYPE_RELIABLE_CONNECTED = 1;
    public static final int RDMA_PRTYPE_NONE = 1;
    public static final int RDMA_CMS_RDMA_CM = 1;
    public static final String DISCOVERY_NQN = "nqn.2014-08.org.nvmexpress.discovery";

    @Override
    public int size() {
        return HEADER_SIZE;
    }

    /** Bytes needed for a page holding {@code records} entries. */
    public static long pageSize(int records) {
        return HEADER_SIZE + (long) records * ENTRY_SIZE;
    }

    public long genctr() {
        return u64(0);
    }

    public DiscoveryLog genctr(long v) {
        u64(0, v);
        return this;
    }

    public long numrec() {
        return u64(8);
    }

    public DiscoveryLog numrec(long v) {
        u64(8, v);
        return this;
    }

    public int recfmt() {
        return u16(16);
    }

    public DiscoveryLog recfmt(int v) {
        u16(16, v);
        return this;
    }

    /** Points {@code entry} at record {@code index} of the page this header wraps. */
    public Entry entry(Entry entry, int index) {
        return entry.wrap(segment, offset + HEADER_SIZE + (long) index * ENTRY_SIZE);
    }

    /**
     * One 1024-byte discovery log entry: TRTYPE 0, ADRFAM 1, SUBTYPE 2, TREQ 3, PORTID u16 4,
     * CNTLID u16 6, ASQSZ u16 8, EFLAGS u16 10, TRSVCID 32..63 (ASCII, space padded), SUBNQN
     * 256..511 (NUL-terminated), TRADDR 512..767 (ASCII, space padded), TSAS 768..1023.
     */
    public static final class Entry extends Flyweight<Entry> {
        @Override
        public int size() {
            return ENTRY_SIZE;
        }

        public int trtype() {
            return u8(0);
        }

        public Entry trtype(int v) {
            u8(0, v);
            return this;
        }

        public int adrfam() {
            return u8(1);
        }

        public Entry adrfam(int v) {
            u8(1, v);
            return this;
        }

        public int subtype() {
            return u8(2);
        }

        public Entry subtype(int v) {
            u8(2, v);
            return this;
        }

        public int treq() {
            return u8(3);
        }

        public Entry treq(int v) {
            u8(3, v);
            return this;
        }

        public int portid() {
            return u16(4);
        }

        public Entry portid(int v) {
            u16(4, v);
            return this;
        }

        public int cntlid() {
            return u16(6);
        }

        public Entry cntlid(int v) {
            u16(6, v);
            return this;
        }

        /** Admin max SQ size (1-based number of entries). */
        public int asqsz() {
            return u16(8);
        }

        public Entry asqsz(int v) {
            u16(8, v);
            return this;
        }

        public int eflags() {
            return u16(10);
        }

        public Entry eflags(int v) {
            u16(10, v);
            return this;
        }

        public String trsvcid() {
            return ascii(32, 32);
        }

        public Entry trsvcid(String v) {
            ascii(32, 32, v);
            return this;
        }

        public String subnqn() {
            return utf8z(256, 256);
        }

        public Entry subnqn(String v) {
            utf8z(256, 256, v);
            return this;
        }

        public String traddr() {
            return ascii(512, 256);
        }

        public Entry traddr(String v) {
            ascii(512, 256, v);
            return this;
        }

        /** Transport specific address subtype, byte {@code i} (0..255) of TSAS. */
        public int tsas(int i) {
            if (i < 0 || i > 255) {
                throw new IndexOutOfBoundsException("tsas " + i);
            }
            return u8(768 + i);
        }

        public Entry tsas(int i, int v) {
            if (i < 0 || i > 255) {
                throw new IndexOutOfBoundsException("tsas " + i);
            }
            u8(768 + i, v);
            return this;
        }

        /** NVMe/RDMA TSAS: RDMA_QPTYPE, RDMA_PRTYPE and RDMA_CMS at bytes 0, 1 and 2. */
        public Entry rdmaTsas(int qptype, int prtype, int cms) {
            u8(768, qptype);
            u8(769, prtype);
            u8(770, cms);
            return this;
        }

        /** NVMe/TCP TSAS: SECTYPE at byte 0. */
        public int tcpSectype() {
            return u8(768);
        }

        public Entry tcpSectype(int v) {
            u8(768, v);
            return this;
        }

        /** RDMA TSAS: QPTYPE 0, PRTYPE 1, CMS 2, PKEY u16 at 8. */
        public Entry rdma(int qptype, int prtype, int cms, int pkey) {
            u8(768, qptype);
            u8(769, prtype);
            u8(770, cms);
            u16(776, pkey);
            return this;
        }
    }
}
