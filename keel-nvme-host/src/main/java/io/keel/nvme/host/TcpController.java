package io.keel.nvme.host;

import io.keel.nvme.spec.ConnectData;
import io.keel.nvme.spec.IdentifyController;
import io.keel.nvme.spec.IdentifyNamespace;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.Properties;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An NVMe-oF controller reached over TCP, brought up as the spec orders it: admin queue (ICReq, Fabrics
 * Connect with a dynamic controller ID), CAP, CC.EN=1 with IOSQES=6/IOCQES=4, wait for CSTS.RDY (bounded by
 * CAP.TO and the host timeout), Identify Controller. Then I/O queues connect with the controller ID the
 * admin Connect returned. Admin commands are synchronous with a deadline and belong to the thread that
 * calls them; each I/O queue belongs to the thread that polls it.
 */
public final class TcpController implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TcpController.class);
    private static final int ADMIN_DEPTH = 4;
    private static final int ADMIN_SQSIZE = 31;
    private static final int FID_NUMBER_OF_QUEUES = 0x07;
    private static final int CNS_NAMESPACE = 0x00;
    private static final int CNS_CONTROLLER = 0x01;

    private final TransportId trid;
    private final HostOptions options;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment adminBuf = arena.allocate(4096, 4096);
    private TcpQpair admin;
    private int cntlid;
    private long cap;
    private int ioccsz;
    private int icdoff;
    private int mdts;

    private TcpController(TransportId trid, HostOptions options) {
        this.trid = trid;
        this.options = options;
    }

    /** Connects the admin queue and enables the controller; throws on any failure or timeout. */
    public static TcpController connect(TransportId trid, HostOptions options) throws IOException {
        TcpController c = new TcpController(trid, options);
        try {
            c.bringUp();
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private void bringUp() throws IOException {
        admin = TcpQpair.open(trid.address(), ADMIN_DEPTH, 64 << 10, options.headerDigest(), options.dataDigest(),
                deadline());
        cntlid = fabricsConnect(admin, 0, ADMIN_SQSIZE, ConnectData.CNTLID_DYNAMIC, options.keepAliveMs());
        cap = propertyGet(Properties.CAP, 8);
        int cc = Properties.Cc.of(true, 0, 0, 0, Properties.Cc.SHN_NONE, 6, 4);
        propertySet(Properties.CC, cc);
        long readyTimeoutNs = Math.max(Properties.Cap.to(cap), 1) * 500_000_000L;
        long ready = System.nanoTime() + Math.min(readyTimeoutNs, options.timeout().toNanos());
        while (!Properties.Csts.rdy((int) propertyGet(Properties.CSTS, 4))) {
            TcpQpair.waitUntil(ready, "CSTS.RDY after CC.EN=1");
            sleepMs(1);
        }
        identify(CNS_CONTROLLER, 0);
        IdentifyController id = new IdentifyController().wrap(adminBuf);
        ioccsz = id.ioccsz();
        icdoff = id.icdoff();
        mdts = id.mdts();
        log.info("connected to {} as cntlid {} (MQES {}, IOCCSZ {}, ICDOFF {}, MDTS {}, digests {}/{})", trid, cntlid,
                Properties.Cap.mqes(cap), ioccsz, icdoff, mdts, admin.headerDigest(), admin.dataDigest());
    }

    public int cntlid() {
        return cntlid;
    }

    /** CAP.MQES + 1: the most entries an I/O queue may have. */
    public int maxQueueEntries() {
        return Properties.Cap.mqes(cap) + 1;
    }

    /** Largest transfer in bytes (MDTS, in units of the 4 KiB minimum page size), or 0 for no limit. */
    public long maxTransferBytes() {
        return mdts == 0 ? 0 : 4096L << mdts;
    }

    /** Bytes of write data an I/O command may carry in its capsule (0 when ICDOFF is not 0: not supported). */
    public int ioInCapsuleBytes() {
        return icdoff == 0 ? Math.max(ioccsz * 16 - Sqe.SIZE, 0) : 0;
    }

    public Namespace identifyNamespace(int nsid) throws IOException {
        identify(CNS_NAMESPACE, nsid);
        IdentifyNamespace ns = new IdentifyNamespace().wrap(adminBuf);
        if (ns.nsze() == 0) {
            throw new IOException("namespace " + nsid + " is not active on " + trid.subnqn());
        }
        return new Namespace(nsid, ns.nsze(), ns.blockSize());
    }

    /** Set Features Number of Queues asking for {@code n} I/O queue pairs; returns how many were granted. */
    public int setNumberOfQueues(int n) throws IOException {
        Sqe s = admin.command().opcode(Opcode.SET_FEATURES);
        s.features().fid(FID_NUMBER_OF_QUEUES);
        s.cdw11((n - 1) | (n - 1) << 16);
        long dw0 = adminCommand("Set Features (Number of Queues)", false, 0);
        return (int) Math.min((dw0 & 0xFFFF) + 1, (dw0 >>> 16 & 0xFFFF) + 1);
    }

    public void keepAlive() throws IOException {
        admin.command().opcode(Opcode.KEEP_ALIVE);
        adminCommand("Keep Alive", false, 0);
    }

    /**
     * Opens and connects I/O queue {@code qid} with {@code depth} command IDs and as many SQ entries (SQSIZE is
     * 0's based, as Linux sizes its queues: up to MQES + 1 commands in flight), owned from now on by the thread
     * that polls it.
     */
    public TcpQpair connectIoQueue(int qid, int depth, int txCapacity) throws IOException {
        if (depth < 1 || depth > maxQueueEntries()) {
            throw new IllegalArgumentException("queue depth " + depth + " out of 1.." + maxQueueEntries());
        }
        TcpQpair q = TcpQpair.open(trid.address(), depth, txCapacity, options.headerDigest(), options.dataDigest(),
                deadline());
        try {
            fabricsConnect(q, qid, Math.max(1, depth - 1), cntlid, 0); // SQSIZE 0 (one entry) is invalid
            q.inCapsuleMax(ioInCapsuleBytes());
            return q;
        } catch (IOException | RuntimeException e) {
            q.close();
            throw e;
        }
    }

    private int fabricsConnect(TcpQpair q, int qid, int sqsize, int wantCntlid, int kato) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(ConnectData.SIZE, 8);
            new ConnectData().wrap(buf).hostId(options.hostId()).cntlid(wantCntlid).subnqn(trid.subnqn())
                    .hostnqn(options.hostNqn());
            Sqe s = q.command();
            s.fabrics().init(Opcode.Fabrics.CONNECT, 0);
            s.connect().recfmt(0).qid(qid).sqsize(sqsize).kato(kato);
            int st = q.execute(0, true, buf, 0, ConnectData.SIZE, deadline());
            if (st != 0) {
                throw new IOException("Connect (qid " + qid + ") to " + trid.subnqn() + " failed: " + describe(st)
                        + " (IATTR/IPO 0x" + Long.toHexString(q.result(0)) + ")");
            }
            return (int) (q.result(0) & 0xFFFF);
        }
    }

    private long propertyGet(int offset, int size) throws IOException {
        Sqe s = admin.command();
        s.fabrics().init(Opcode.Fabrics.PROPERTY_GET, 0);
        s.property().sizeBytes(size).ofst(offset);
        long v = adminCommand("Property Get 0x" + Integer.toHexString(offset), false, 0);
        return size == 4 ? v & 0xFFFF_FFFFL : v;
    }

    private void propertySet(int offset, int value) throws IOException {
        Sqe s = admin.command();
        s.fabrics().init(Opcode.Fabrics.PROPERTY_SET, 0);
        s.property().sizeBytes(4).ofst(offset).value(value & 0xFFFF_FFFFL);
        adminCommand("Property Set 0x" + Integer.toHexString(offset), false, 0);
    }

    private void identify(int cns, int nsid) throws IOException {
        Sqe s = admin.command().opcode(Opcode.IDENTIFY).nsid(nsid);
        s.identify().cns(cns);
        adminCommand("Identify CNS " + cns, true, 4096);
    }

    /** Runs the command in the admin scratch SQE; {@code dataIn}: receive {@code len} bytes into adminBuf. */
    private long adminCommand(String what, boolean dataIn, int len) throws IOException {
        int st = admin.execute(0, false, dataIn ? adminBuf : null, 0, len, deadline());
        if (st != 0) {
            throw new IOException(what + " failed: " + describe(st));
        }
        return admin.result(0);
    }

    /** Status text for errors: SCT and SC in hex. */
    public static String describe(int status) {
        return String.format("SCT 0x%x SC 0x%02x", Status.sct(status), Status.sc(status));
    }

    private long deadline() {
        return System.nanoTime() + options.timeout().toNanos();
    }

    private static void sleepMs(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Closes the admin queue (the controller then drops the association); I/O queues are their owners' to close. */
    @Override
    public void close() {
        if (admin != null) {
            admin.close();
        }
        arena.close();
    }
}
