package io.keel.nvmf.ctrlr;

import static io.keel.bdev.BdevTestApp.params;
import io.keel.bdev.BdevTestApp;
import ch.qos.logback.classic.Level;
import io.keel.core.testing.LogCapture;
import static org.assertj.core.api.Assertions.assertThat;

import io.keel.nvme.spec.Cns;
import io.keel.nvme.spec.CommandEffectsLog;
import io.keel.nvme.spec.ConnectData;
import io.keel.nvme.spec.DiscoveryLog;
import io.keel.nvme.spec.FeatureId;
import io.keel.nvme.spec.FirmwareSlotLog;
import io.keel.nvme.spec.IdentifyController;
import io.keel.nvme.spec.IdentifyNamespace;
import io.keel.nvme.spec.LogPageId;
import io.keel.nvme.spec.NamespaceIdDescriptorList;
import io.keel.nvme.spec.NamespaceIdList;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.Properties;
import io.keel.nvme.spec.SmartLog;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;
import io.keel.nvme.spec.Wire;
import io.keel.nvmf.Nqn;
import io.keel.nvmf.NvmfSubsystem;
import io.keel.nvmf.Target;
import io.keel.nvmf.TransportOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The controller's admin logic, driven with SQEs and data buffers on the application thread (no sockets). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ControllerTest {
    static final String CNODE1 = "nqn.2016-06.io.spdk:cnode1";
    static final String CNODE2 = "nqn.2016-06.io.spdk:cnode2";
    static final String CNODE3 = "nqn.2016-06.io.spdk:cnode3";
    static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";
    static final String OTHER_HOST = "nqn.2014-08.org.nvmexpress:uuid:99999999-2222-3333-4444-555555555555";
    static final UUID HOST_ID = UUID.fromString("11111111-2222-3333-4444-555555555555");
    static final String UUID0 = "457c55b9-7ca9-452b-b5d9-1a3e8eb0874e";
    static final String UUID1 = "4298e564-75b3-4b46-824e-b6a7f1212552";
    static final TransportOptions TCP = TransportOptions.TCP_DEFAULTS;
    static final long MS = 1_000_000L;

    @TempDir
    static Path dir;

    BdevTestApp t;
    Target target;

    @BeforeAll
    void start() {
        t = BdevTestApp.start(dir);
        t.rpc("bdev_malloc_create", params("name", "Malloc0", "block_size", 4096, "num_blocks", 262144 / 8,
                "uuid", UUID0));
        t.rpc("bdev_malloc_create", params("name", "Malloc1", "block_size", 512, "num_blocks", 4096, "uuid", UUID1));
        t.rpc("bdev_malloc_create", params("name", "Malloc2", "block_size", 512, "num_blocks", 2048));
        t.rpc("bdev_malloc_create", params("name", "Malloc3", "block_size", 512, "num_blocks", 2048));
        t.rpc("nvmf_create_subsystem", params("nqn", CNODE1, "allow_any_host", true, "serial_number",
                "SPDK00000000000001", "model_number", "SPDK_Controller1"));
        t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1, "namespace", params("bdev_name", "Malloc0")));
        t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1, "namespace", params("bdev_name", "Malloc1", "nsid", 3,
                "eui64", "0102030405060708")));
        t.rpc("nvmf_create_subsystem", params("nqn", CNODE2, "allow_any_host", false, "min_cntlid", 5,
                "max_cntlid", 6));
        t.rpc("nvmf_subsystem_add_host", params("nqn", CNODE2, "host", HOST));
        t.rpc("nvmf_create_subsystem", params("nqn", CNODE3, "allow_any_host", true));
        t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE3, "namespace", params("bdev_name", "Malloc2")));
        target = Target.of(t.app);
    }

    @AfterAll
    void stop() throws Exception {
        t.close();
    }

    <T> T onApp(Callable<T> c) {
        return BdevTestApp.on(t.app.appThread(), c);
    }

    /** A command as a transport would hand it over. */
    static final class Cmd implements AdminCommand {
        final Sqe sqe = new Sqe().wrap(Arena.ofAuto().allocate(64));
        MemorySegment data;
        long length;
        int status = -1;
        int dw0;
        int dw1;
        int completions;

        Cmd data(int bytes) {
            data = Arena.ofAuto().allocate(bytes);
            data.fill((byte) 0x5A); // the controller must overwrite (or zero) everything it transfers
            length = bytes;
            return this;
        }

        @Override
        public Sqe sqe() {
            return sqe;
        }

        @Override
        public MemorySegment data() {
            return data;
        }

        @Override
        public long length() {
            return length;
        }

        @Override
        public void complete(int statusField, int dw0, int dw1) {
            this.status = statusField;
            this.dw0 = dw0;
            this.dw1 = dw1;
            completions++;
        }

        boolean done() {
            return completions == 1;
        }

        int code() {
            return Status.codeOf(status);
        }

        boolean ok() {
            return completions == 1 && code() == Status.SUCCESS;
        }
    }

    static Cmd connectCmd(int qid, int sqsize, long kato, String subnqn, String hostnqn, int cntlid) {
        Cmd c = new Cmd().data(ConnectData.SIZE);
        c.sqe.fabrics().init(Opcode.Fabrics.CONNECT, 1);
        c.sqe.connect().qid(qid).sqsize(sqsize).kato(kato);
        c.data.fill((byte) 0);
        new ConnectData().wrap(c.data).hostId(HOST_ID).cntlid(cntlid).subnqn(subnqn).hostnqn(hostnqn);
        return c;
    }

    static Cmd admin(int opcode) {
        Cmd c = new Cmd();
        c.sqe.opcode(opcode).cid(7);
        return c;
    }

    static Cmd propGet(int ofst, int size) {
        Cmd c = new Cmd();
        c.sqe.fabrics().init(Opcode.Fabrics.PROPERTY_GET, 2);
        c.sqe.property().sizeBytes(size).ofst(ofst);
        return c;
    }

    static Cmd propSet(int ofst, int size, long value) {
        Cmd c = new Cmd();
        c.sqe.fabrics().init(Opcode.Fabrics.PROPERTY_SET, 3);
        c.sqe.property().sizeBytes(size).ofst(ofst).value(value);
        return c;
    }

    static final int CC_ENABLE = Properties.Cc.of(true, 0, 0, 0, 0, 6, 4);

    record Conn(ControllerManager mgr, Controller ctrlr) {
    }

    /** Connects an admin queue to {@code subnqn} and enables the controller. */
    Conn enabled(String subnqn, long kato, long now) {
        return onApp(() -> {
            ControllerManager mgr = new ControllerManager(target);
            Cmd c = connectCmd(0, 31, kato, subnqn, HOST, ConnectData.CNTLID_DYNAMIC);
            ControllerManager.Binding b = mgr.connect(c, TCP, now);
            assertThat(c.ok()).isTrue();
            Cmd en = propSet(Properties.CC, 4, CC_ENABLE);
            b.controller().execute(en, now);
            assertThat(en.ok()).isTrue();
            return new Conn(mgr, b.controller());
        });
    }

    Cmd run(Controller c, Cmd cmd) {
        return run(c, cmd, 0);
    }

    Cmd run(Controller c, Cmd cmd, long now) {
        onApp(() -> {
            c.execute(cmd, now);
            return null;
        });
        return cmd;
    }

    Cmd identify(Controller c, int cns, int nsid) {
        Cmd cmd = admin(Opcode.IDENTIFY).data(4096);
        cmd.sqe.nsid(nsid);
        cmd.sqe.identify().cns(cns);
        return run(c, cmd);
    }

    Cmd getLog(Controller c, int lid, long offset, int bytes) {
        Cmd cmd = admin(Opcode.GET_LOG_PAGE).data(bytes);
        cmd.sqe.getLogPage().lid(lid).lpo(offset).lengthBytes(bytes);
        return run(c, cmd);
    }

    Cmd feature(Controller c, boolean set, int fid, int value) {
        Cmd cmd = admin(set ? Opcode.SET_FEATURES : Opcode.GET_FEATURES);
        cmd.sqe.features().fid(fid).value(value);
        return run(c, cmd);
    }

    // ---- Connect ----

    @Test
    void adminConnectAllocatesDynamicCntlids() {
        onApp(() -> {
            ControllerManager mgr = new ControllerManager(target);
            Cmd a = connectCmd(0, 127, 30_000, CNODE1, HOST, 0xFFFF);
            ControllerManager.Binding b = mgr.connect(a, TCP, 0);
            assertThat(a.ok()).isTrue();
            assertThat(a.dw0 & 0xFFFF).isEqualTo(1);
            assertThat(b.qid()).isZero();
            Controller c = b.controller();
            assertThat(c.cntlid()).isEqualTo(1);
            assertThat(c.state()).isEqualTo(Controller.State.CONNECTED);
            assertThat(c.hostnqn()).isEqualTo(HOST);
            assertThat(c.hostId()).isEqualTo(HOST_ID);
            assertThat(c.katoMs()).isEqualTo(30_000);
            Cmd a2 = connectCmd(0, 31, 0, CNODE1, HOST, 0xFFFF);
            assertThat(mgr.connect(a2, TCP, 0).controller().cntlid()).isEqualTo(2);
            assertThat(a2.dw0).isEqualTo(2);
            assertThat(mgr.controllers(CNODE1)).hasSize(2);
            // KATO rounds up to the KAS granularity (100 × 100 ms) and at least min_kato
            Cmd a3 = connectCmd(0, 31, 12_345, CNODE1, HOST, 0xFFFF);
            assertThat(mgr.connect(a3, TCP, 0).controller().katoMs()).isEqualTo(20_000);
            Cmd a4 = connectCmd(0, 31, 1, CNODE1, HOST, 0xFFFF);
            assertThat(mgr.connect(a4, TCP, 0).controller().katoMs()).isEqualTo(10_000);
            // a static cntlid is refused: IATTR 1 (data), IPO 16
            Cmd st = connectCmd(0, 31, 0, CNODE1, HOST, 7);
            assertThat(mgr.connect(st, TCP, 0)).isNull();
            assertThat(st.code()).isEqualTo(Status.CONNECT_INVALID_PARAMETERS);
            assertThat(st.dw0).isEqualTo(1 | 16 << 16);
            return null;
        });
    }

    @Test
    void cntlidStaysWithinTheSubsystemRange() {
        onApp(() -> {
            ControllerManager mgr = new ControllerManager(target);
            Cmd a = connectCmd(0, 31, 0, CNODE2, HOST, 0xFFFF);
            Cmd b = connectCmd(0, 31, 0, CNODE2, HOST, 0xFFFF);
            Cmd c = connectCmd(0, 31, 0, CNODE2, HOST, 0xFFFF);
            Controller first = mgr.connect(a, TCP, 0).controller();
            mgr.connect(b, TCP, 0);
            assertThat(a.dw0).isEqualTo(5);
            assertThat(b.dw0).isEqualTo(6);
            assertThat(mgr.connect(c, TCP, 0)).isNull();
            assertThat(c.code()).isEqualTo(Status.CONTROLLER_BUSY);
            mgr.destroy(first);
            Cmd d = connectCmd(0, 31, 0, CNODE2, HOST, 0xFFFF);
            mgr.connect(d, TCP, 0);
            assertThat(d.ok()).isTrue();
            assertThat(d.dw0).isEqualTo(5);
            return null;
        });
    }

    @Test
    void emptyHostNqnConnectsWhereAnyHostMayAndIsRefusedByAnAllowList() {
        try (LogCapture log = LogCapture.of(ControllerManager.class)) {
            onApp(() -> {
                ControllerManager mgr = new ControllerManager(target);
                Cmd any = connectCmd(0, 31, 0, CNODE1, "", 0xFFFF); // what spdk_nvme_perf sends without hostnqn:
                ControllerManager.Binding b = mgr.connect(any, TCP, 0);
                assertThat(any.ok()).isTrue();
                assertThat(b.controller().hostnqn()).isEmpty();
                Cmd listed = connectCmd(0, 31, 0, CNODE2, "", 0xFFFF);
                assertThat(mgr.connect(listed, TCP, 0, null, "10.0.0.9:51234")).isNull();
                assertThat(listed.code()).isEqualTo(Status.CONNECT_INVALID_HOST);
                assertThat(listed.dw0 >>> 16).isEqualTo(512); // IPO: HOSTNQN
                mgr.destroy(b.controller());
                return null;
            });
            assertThat(log.messages(Level.INFO)).anySatisfy(m -> assertThat(m).contains("10.0.0.9:51234")
                    .contains("HOSTNQN ''").contains(CNODE2));
        }
    }

    @Test
    void everyRefusedConnectIsLoggedWithTheFieldAndValue() {
        try (LogCapture log = LogCapture.of(ControllerManager.class)) {
            onApp(() -> {
                ControllerManager mgr = new ControllerManager(target);
                mgr.connect(connectCmd(0, 31, 0, "nqn.2016-06.io.spdk:nosuch", HOST, 0xFFFF), TCP, 0);
                mgr.connect(connectCmd(0, 4000, 0, CNODE1, HOST, 0xFFFF), TCP, 0);
                mgr.connect(connectCmd(0, 31, 0, CNODE1, HOST, 7), TCP, 0);
                mgr.connect(connectCmd(3, 31, 0, CNODE1, HOST, 77), TCP, 0);
                return null;
            });
            assertThat(log.messages(Level.INFO)).satisfiesExactly(
                    m -> assertThat(m).contains("SUBNQN 'nqn.2016-06.io.spdk:nosuch'").contains("no such subsystem"),
                    m -> assertThat(m).contains("SQSIZE 4000").contains("max_aq_depth 128"),
                    m -> assertThat(m).contains("CNTLID 0x7"),
                    m -> assertThat(m).contains("CNTLID 77").contains("no such controller"));
        }
    }

    @Test
    void connectRefusesUnknownHostWrongSubnqnAndBadSqsize() {
        onApp(() -> {
            ControllerManager mgr = new ControllerManager(target);
            Cmd host = connectCmd(0, 31, 0, CNODE2, OTHER_HOST, 0xFFFF);
            assertThat(mgr.connect(host, TCP, 0)).isNull();
            assertThat(host.code()).isEqualTo(Status.CONNECT_INVALID_HOST);
            assertThat(Status.sct(host.code())).isEqualTo(1);
            assertThat(Status.sc(host.code())).isEqualTo(0x84);
            assertThat(host.dw0 & 0xFF).isEqualTo(1); // IATTR: in the data
            assertThat(host.dw0 >>> 16).isEqualTo(512); // IPO: HOSTNQN
            Cmd sub = connectCmd(0, 31, 0, "nqn.2016-06.io.spdk:nosuch", HOST, 0xFFFF);
            assertThat(mgr.connect(sub, TCP, 0)).isNull();
            assertThat(sub.code()).isEqualTo(Status.CONNECT_INVALID_PARAMETERS);
            assertThat(sub.dw0).isEqualTo(1 | 256 << 16);
            Cmd big = connectCmd(0, 128, 0, CNODE1, HOST, 0xFFFF); // max_aq_depth 128: SQSIZE at most 127
            assertThat(mgr.connect(big, TCP, 0)).isNull();
            assertThat(big.code()).isEqualTo(Status.CONNECT_INVALID_PARAMETERS);
            assertThat(big.dw0).isEqualTo(44 << 16); // IATTR 0: in the command, IPO 44
            Cmd zero = connectCmd(0, 0, 0, CNODE1, HOST, 0xFFFF);
            assertThat(mgr.connect(zero, TCP, 0)).isNull();
            Cmd recfmt = connectCmd(0, 31, 0, CNODE1, HOST, 0xFFFF);
            recfmt.sqe.connect().recfmt(1);
            assertThat(mgr.connect(recfmt, TCP, 0)).isNull();
            assertThat(recfmt.code()).isEqualTo(Status.INCOMPATIBLE_FORMAT);
            assertThat(mgr.controllers(CNODE1)).isEmpty();
            // the allowed host gets in
            Cmd good = connectCmd(0, 31, 0, CNODE2, HOST, 0xFFFF);
            assertThat(mgr.connect(good, TCP, 0)).isNotNull();
            assertThat(good.ok()).isTrue();
            return null;
        });
    }

    @Test
    void ioQueueConnect() {
        onApp(() -> {
            ControllerManager mgr = new ControllerManager(target);
            Cmd a = connectCmd(0, 31, 0, CNODE1, HOST, 0xFFFF);
            Controller c = mgr.connect(a, TCP, 0).controller();
            // before CC.EN = 1: command sequence error
            Cmd early = connectCmd(1, 127, 0, CNODE1, HOST, c.cntlid());
            assertThat(mgr.connect(early, TCP, 0)).isNull();
            assertThat(early.code()).isEqualTo(Status.COMMAND_SEQUENCE_ERROR);
            c.execute(propSet(Properties.CC, 4, CC_ENABLE), 0);
            Cmd nq = admin(Opcode.SET_FEATURES);
            nq.sqe.features().fid(FeatureId.NUMBER_OF_QUEUES).value(FeatureId.numberOfQueues(2, 2));
            c.execute(nq, 0);
            assertThat(nq.dw0).isEqualTo(FeatureId.numberOfQueues(2, 2));
            Cmd q1 = connectCmd(1, 127, 0, CNODE1, HOST, c.cntlid());
            ControllerManager.Binding b1 = mgr.connect(q1, TCP, 5);
            assertThat(q1.ok()).isTrue();
            assertThat(q1.dw0).isEqualTo(c.cntlid());
            assertThat(b1.controller()).isSameAs(c);
            assertThat(b1.qid()).isEqualTo(1);
            Cmd q2 = connectCmd(2, 127, 0, CNODE1, HOST, c.cntlid());
            assertThat(mgr.connect(q2, TCP, 5)).isNotNull();
            assertThat(c.queueIds()).containsExactly(0, 1, 2);
            Cmd q3 = connectCmd(3, 127, 0, CNODE1, HOST, c.cntlid()); // only 2 granted
            assertThat(mgr.connect(q3, TCP, 5)).isNull();
            assertThat(q3.code()).isEqualTo(Status.CONNECT_INVALID_PARAMETERS);
            assertThat(q3.dw0).isEqualTo(42 << 16);
            Cmd dup = connectCmd(1, 127, 0, CNODE1, HOST, c.cntlid());
            assertThat(mgr.connect(dup, TCP, 5)).isNull();
            Cmd deep = connectCmd(1, 128, 0, CNODE1, HOST, c.cntlid()); // max_queue_depth 128
            assertThat(mgr.connect(deep, TCP, 5)).isNull();
            Cmd wrongCtrlr = connectCmd(1, 127, 0, CNODE1, HOST, 0x99);
            assertThat(mgr.connect(wrongCtrlr, TCP, 5)).isNull();
            assertThat(wrongCtrlr.dw0).isEqualTo(1 | 16 << 16);
            Cmd wrongHost = connectCmd(1, 127, 0, CNODE1, OTHER_HOST, c.cntlid());
            assertThat(mgr.connect(wrongHost, TCP, 5)).isNull();
            assertThat(wrongHost.dw0).isEqualTo(1 | 512 << 16);
            // number of queues cannot change once I/O queues exist
            Cmd nq2 = admin(Opcode.SET_FEATURES);
            nq2.sqe.features().fid(FeatureId.NUMBER_OF_QUEUES).value(0);
            c.execute(nq2, 5);
            assertThat(nq2.code()).isEqualTo(Status.COMMAND_SEQUENCE_ERROR);
            // the discovery subsystem takes an admin queue only
            Cmd disc = connectCmd(0, 31, 0, Nqn.DISCOVERY, HOST, 0xFFFF);
            Controller d = mgr.connect(disc, TCP, 0).controller();
            assertThat(d.discovery()).isTrue();
            assertThat(d.katoMs()).isEqualTo(120_000);
            Cmd dio = connectCmd(1, 31, 0, Nqn.DISCOVERY, HOST, d.cntlid());
            assertThat(mgr.connect(dio, TCP, 0)).isNull();
            assertThat(dio.code()).isEqualTo(Status.CONNECT_INVALID_PARAMETERS);
            assertThat(dio.dw0).isEqualTo(42 << 16);
            return null;
        });
    }

    // ---- properties ----

    @Test
    void propertiesAndTheEnableShutdownStateMachine() {
        onApp(() -> {
            ControllerManager mgr = new ControllerManager(target);
            Controller c = mgr.connect(connectCmd(0, 31, 0, CNODE1, HOST, 0xFFFF), TCP, 0).controller();
            Cmd cap = propGet(Properties.CAP, 8);
            c.execute(cap, 0);
            long v = (cap.dw0 & 0xFFFF_FFFFL) | (long) cap.dw1 << 32;
            assertThat(Properties.Cap.mqes(v)).isEqualTo(127); // "Maximum Queue Entries: 128"
            assertThat(Properties.Cap.cqr(v)).isTrue();
            assertThat(Properties.Cap.to(v) * 500).isEqualTo(15000);
            assertThat(Properties.Cap.css(v)).isEqualTo(Properties.Cap.CSS_NVM);
            assertThat(Properties.Cap.mpsmin(v)).isZero();
            assertThat(Properties.Cap.mpsmax(v)).isZero();
            assertThat(Properties.Cap.dstrd(v)).isZero();
            Cmd vs = propGet(Properties.VS, 4);
            c.execute(vs, 0);
            assertThat(vs.dw0).isEqualTo(0x0002_0000); // 2.0
            Cmd csts = propGet(Properties.CSTS, 4);
            c.execute(csts, 0);
            assertThat(csts.dw0).isZero();
            // admin commands need CC.EN = 1
            Cmd ka = admin(Opcode.KEEP_ALIVE);
            c.execute(ka, 0);
            assertThat(ka.code()).isEqualTo(Status.COMMAND_SEQUENCE_ERROR);
            // invalid offsets and sizes
            for (Cmd bad : List.of(propGet(0x50, 4), propGet(Properties.CAP, 4), propGet(Properties.CC, 8),
                    propSet(Properties.CAP, 8, 0), propSet(Properties.CC, 8, 0), propSet(Properties.CSTS, 4, 1))) {
                c.execute(bad, 0);
                assertThat(bad.code()).isEqualTo(Status.INVALID_FIELD);
                assertThat(bad.status & 0x8000).isNotZero(); // DNR
            }
            // EN 0 → 1: RDY
            Cmd en = propSet(Properties.CC, 4, CC_ENABLE);
            c.execute(en, 0);
            assertThat(en.ok()).isTrue();
            assertThat(c.state()).isEqualTo(Controller.State.ENABLED);
            Cmd cc = propGet(Properties.CC, 4);
            c.execute(cc, 0);
            assertThat(cc.dw0).isEqualTo(CC_ENABLE);
            c.execute(csts = propGet(Properties.CSTS, 4), 0);
            assertThat(Properties.Csts.rdy(csts.dw0)).isTrue();
            c.execute(ka = admin(Opcode.KEEP_ALIVE), 0);
            assertThat(ka.ok()).isTrue();
            // EN 1 → 0: reset, RDY 0
            c.execute(propSet(Properties.CC, 4, Properties.Cc.of(false, 0, 0, 0, 0, 6, 4)), 0);
            assertThat(c.state()).isEqualTo(Controller.State.CONNECTED);
            c.execute(csts = propGet(Properties.CSTS, 4), 0);
            assertThat(csts.dw0).isZero();
            // enable again, then a normal shutdown: SHST complete
            c.execute(propSet(Properties.CC, 4, CC_ENABLE), 0);
            Cmd shn = propSet(Properties.CC, 4, Properties.Cc.of(true, 0, 0, 0, Properties.Cc.SHN_NORMAL, 6, 4));
            c.execute(shn, 0);
            assertThat(shn.ok()).isTrue();
            assertThat(c.state()).isEqualTo(Controller.State.SHUTDOWN);
            c.execute(csts = propGet(Properties.CSTS, 4), 0);
            assertThat(Properties.Csts.shst(csts.dw0)).isEqualTo(Properties.Csts.SHST_COMPLETE);
            // a 4 KiB-only controller refuses another page size
            c.execute(propSet(Properties.CC, 4, 0), 0);
            Cmd mps = propSet(Properties.CC, 4, Properties.Cc.of(true, 0, 1, 0, 0, 6, 4));
            c.execute(mps, 0);
            assertThat(mps.code()).isEqualTo(Status.INVALID_FIELD);
            return null;
        });
    }

    // ---- identify ----

    @Test
    void identifyControllerMatchesTheReference() {
        Conn k = enabled(CNODE1, 0, 0);
        Cmd cmd = identify(k.ctrlr(), Cns.CONTROLLER, 0);
        assertThat(cmd.ok()).isTrue();
        IdentifyController id = new IdentifyController().wrap(cmd.data);
        MemorySegment d = cmd.data;
        assertThat(id.vid()).isEqualTo(0x8086);
        assertThat(Wire.u16(d, 0)).isEqualTo(0x8086);
        assertThat(Wire.u16(d, 2)).isEqualTo(0x8086);
        assertThat(id.sn()).isEqualTo("SPDK00000000000001");
        assertThat(Wire.asciiPadded(d, 4, 20)).isEqualTo("SPDK00000000000001");
        assertThat(Wire.u8(d, 4 + 19)).isEqualTo(0x20); // space padded
        assertThat(Wire.asciiPadded(d, 24, 40)).isEqualTo("SPDK_Controller1");
        assertThat(Wire.asciiPadded(d, 64, 8)).isEqualTo(Controller.FIRMWARE_REVISION);
        assertThat(Controller.FIRMWARE_REVISION.length()).isBetween(1, 8);
        assertThat(Wire.u8(d, 72)).isEqualTo(6); // RAB
        assertThat(Wire.bytes(d, 73, 3)).containsExactly(0xe4, 0xd2, 0x5c); // IEEE OUI "e4 d2 5c"
        assertThat(Wire.u8(d, 76)).isEqualTo(3); // CMIC
        assertThat(1 << (12 + Wire.u8(d, 77))).isEqualTo(131072); // MDTS
        assertThat(Wire.u16(d, 78)).isEqualTo(k.ctrlr().cntlid());
        assertThat(Wire.u32(d, 80)).isEqualTo(0x0002_0000); // VER 2.0
        assertThat(Wire.u32(d, 92)).isEqualTo(1 << 8); // OAES namespace attribute notices
        assertThat(Wire.u32(d, 96)).isEqualTo(1); // CTRATT 128-bit host identifier
        assertThat(Wire.u8(d, 111)).isEqualTo(1); // CNTRLTYPE I/O
        assertThat(Wire.u16(d, 256)).isZero(); // OACS: none
        assertThat(Wire.u8(d, 258) + 1).isEqualTo(4); // ACL
        assertThat(Wire.u8(d, 259) + 1).isEqualTo(4); // AERL
        assertThat(Wire.u8(d, 261)).isEqualTo(0x26); // LPA: commands effects, extended data, supported log pages
        assertThat(Wire.u8(d, 262) + 1).isEqualTo(128); // ELPE
        assertThat(Wire.u8(d, 263)).isZero(); // NPSS: 1 power state
        assertThat(Wire.u16(d, 320) * 100).isEqualTo(10000); // KAS: "Keep Alive Granularity: 10000 ms"
        assertThat(Wire.u8(d, 512)).isEqualTo(0x66); // SQES 64
        assertThat(Wire.u8(d, 513)).isEqualTo(0x44); // CQES 16
        assertThat(Wire.u16(d, 514)).isEqualTo(128); // MAXCMD
        assertThat(Wire.u32(d, 516)).isEqualTo(32); // NN
        int oncs = Wire.u16(d, 520);
        assertThat(oncs & IdentifyController.ONCS_COMPARE).isNotZero();
        assertThat(oncs & IdentifyController.ONCS_WRITE_ZEROES).isNotZero();
        assertThat(oncs & IdentifyController.ONCS_DSM).isNotZero(); // malloc bdevs unmap
        assertThat(Wire.u16(d, 522)).as("FUSES: no fused commands in Keel").isZero();
        assertThat(Wire.u8(d, 525) & 1).isZero(); // VWC: malloc has no write cache
        assertThat(Wire.u16(d, 526)).isZero(); // AWUN 0 ("1")
        assertThat(Wire.u32(d, 536)).isEqualTo(0x100005); // SGLS: supported, keyed, offset
        assertThat(id.subnqn()).isEqualTo(CNODE1);
        assertThat(Wire.u32(d, 1792)).isEqualTo((64 + 4096) / 16); // IOCCSZ
        assertThat(Wire.u32(d, 1796)).isEqualTo(1); // IORCSZ
        assertThat(Wire.u16(d, 1800)).isZero(); // ICDOFF
        assertThat(Wire.u8(d, 1802)).isZero(); // FCATT dynamic
        assertThat(Wire.u8(d, 1803)).isEqualTo(1); // MSDBD
        // a shorter buffer gets the first bytes only
        Cmd shortCmd = admin(Opcode.IDENTIFY).data(128);
        shortCmd.sqe.identify().cns(Cns.CONTROLLER);
        run(k.ctrlr(), shortCmd);
        assertThat(shortCmd.ok()).isTrue();
        assertThat(Wire.asciiPadded(shortCmd.data, 4, 20)).isEqualTo("SPDK00000000000001");
    }

    @Test
    void identifyDiscoveryControllerMatchesTheReference() {
        Conn k = enabled(Nqn.DISCOVERY, 0, 0);
        Cmd cmd = identify(k.ctrlr(), Cns.CONTROLLER, 0);
        assertThat(cmd.ok()).isTrue();
        MemorySegment d = cmd.data;
        assertThat(Wire.u16(d, 0)).isZero();
        assertThat(Wire.bytes(d, 4, 20)).containsOnly(0); // SN "...................."
        assertThat(Wire.bytes(d, 24, 40)).containsOnly(0);
        assertThat(Wire.u8(d, 72)).isZero();
        assertThat(1 << (12 + Wire.u8(d, 77))).isEqualTo(131072);
        assertThat(Wire.u32(d, 80)).isEqualTo(0x0002_0000);
        assertThat(Wire.u32(d, 92)).isEqualTo(1 << 31); // discovery log change notices
        assertThat(Wire.u8(d, 111)).isEqualTo(2); // CNTRLTYPE discovery
        assertThat(Wire.u8(d, 258) + 1).isEqualTo(1); // ACL
        assertThat(Wire.u8(d, 259) + 1).isEqualTo(4); // AERL
        assertThat(Wire.u8(d, 261)).isEqualTo(IdentifyController.LPA_EXTENDED_DATA);
        assertThat(Wire.u8(d, 262) + 1).isEqualTo(128);
        assertThat(Wire.u16(d, 320)).isZero(); // "Keep Alive: Not Supported"
        assertThat(Wire.u8(d, 512)).isZero(); // SQES "Max: 1 Min: 1"
        assertThat(Wire.u8(d, 513)).isZero();
        assertThat(Wire.u32(d, 516)).isZero(); // NN
        assertThat(Wire.u16(d, 520)).isZero(); // ONCS
        assertThat(Wire.u32(d, 536)).isEqualTo(0x100005);
        assertThat(Wire.utf8Z(d, 768, 256)).isEqualTo(Nqn.DISCOVERY);
        // only CNS 1, only the discovery log page, no I/O-controller commands
        assertThat(identify(k.ctrlr(), Cns.NAMESPACE, 1).code()).isEqualTo(Status.INVALID_FIELD);
        assertThat(getLog(k.ctrlr(), LogPageId.SMART_HEALTH, 0, 512).code()).isEqualTo(Status.INVALID_LOG_PAGE);
        assertThat(run(k.ctrlr(), admin(Opcode.ABORT)).code()).isEqualTo(Status.INVALID_OPCODE);
    }

    @Test
    void identifyNamespaceListAndDescriptors() {
        Conn k = enabled(CNODE1, 0, 0);
        Cmd ns1 = identify(k.ctrlr(), Cns.NAMESPACE, 1);
        assertThat(ns1.ok()).isTrue();
        MemorySegment d = ns1.data;
        IdentifyNamespace n = new IdentifyNamespace().wrap(d);
        assertThat(Wire.u64(d, 0)).isEqualTo(32768); // NSZE
        assertThat(Wire.u64(d, 8)).isEqualTo(32768); // NCAP
        assertThat(Wire.u64(d, 16)).isEqualTo(32768); // NUSE
        assertThat(Wire.u8(d, 24)).isEqualTo(IdentifyNamespace.NSFEAT_NS_ATOMICS);
        assertThat(Wire.u8(d, 25)).isZero(); // NLBAF: one format
        assertThat(Wire.u8(d, 26)).isZero(); // FLBAS
        assertThat(Wire.u8(d, 30)).isEqualTo(1); // NMIC shared ("Multiple Controllers")
        assertThat(Wire.u32(d, 128)).isEqualTo(12 << 16); // LBAF0: LBADS 12 (4096), MS 0
        assertThat(n.blockSize()).isEqualTo(4096);
        assertThat(HexFormat.of().withUpperCase().formatHex(Wire.bytes(d, 104, 16)))
                .isEqualTo("457C55B97CA9452BB5D91A3E8EB0874E"); // NGUID from the bdev's UUID, as SPDK
        assertThat(Wire.bytes(d, 120, 8)).containsOnly(0); // no EUI64
        Cmd ns3 = identify(k.ctrlr(), Cns.NAMESPACE, 3);
        assertThat(Wire.u64(ns3.data, 0)).isEqualTo(4096);
        assertThat(Wire.u32(ns3.data, 128)).isEqualTo(9 << 16);
        assertThat(Wire.bytes(ns3.data, 120, 8)).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
        // inactive NSID (≤ max_namespaces): zeroes; invalid NSIDs: Invalid Namespace or Format
        Cmd inactive = identify(k.ctrlr(), Cns.NAMESPACE, 2);
        assertThat(inactive.ok()).isTrue();
        assertThat(Wire.bytes(inactive.data, 0, 4096)).containsOnly(0);
        assertThat(identify(k.ctrlr(), Cns.NAMESPACE, 0).code()).isEqualTo(Status.INVALID_NAMESPACE_OR_FORMAT);
        assertThat(identify(k.ctrlr(), Cns.NAMESPACE, 33).code()).isEqualTo(Status.INVALID_NAMESPACE_OR_FORMAT);
        assertThat(identify(k.ctrlr(), Cns.NAMESPACE, -1).code()).isEqualTo(Status.INVALID_NAMESPACE_OR_FORMAT);
        // active namespace list, from NSID
        Cmd list = identify(k.ctrlr(), Cns.ACTIVE_NAMESPACE_LIST, 0);
        NamespaceIdList l = new NamespaceIdList().wrap(list.data);
        assertThat(l.count()).isEqualTo(2);
        assertThat(Wire.u32(list.data, 0)).isEqualTo(1);
        assertThat(Wire.u32(list.data, 4)).isEqualTo(3);
        assertThat(Wire.bytes(list.data, 8, 4096 - 8)).containsOnly(0);
        Cmd after1 = identify(k.ctrlr(), Cns.ACTIVE_NAMESPACE_LIST, 1);
        assertThat(Wire.u32(after1.data, 0)).isEqualTo(3);
        assertThat(Wire.u32(after1.data, 4)).isZero();
        assertThat(identify(k.ctrlr(), Cns.ACTIVE_NAMESPACE_LIST, 0xFFFF_FFFE).code())
                .isEqualTo(Status.INVALID_NAMESPACE_OR_FORMAT);
        // descriptors: EUI64 (when set), NGUID, UUID, CSI
        Cmd desc = identify(k.ctrlr(), Cns.NAMESPACE_ID_DESCRIPTORS, 1);
        MemorySegment dd = desc.data;
        assertThat(Wire.u8(dd, 0)).isEqualTo(NamespaceIdDescriptorList.NIDT_NGUID);
        assertThat(Wire.u8(dd, 1)).isEqualTo(16);
        assertThat(Wire.bytes(dd, 4, 16)).isEqualTo(HexFormat.of().parseHex("457C55B97CA9452BB5D91A3E8EB0874E"));
        assertThat(Wire.u8(dd, 20)).isEqualTo(NamespaceIdDescriptorList.NIDT_UUID);
        assertThat(Wire.u8(dd, 21)).isEqualTo(16);
        assertThat(io.keel.nvme.spec.Uuids.read(dd, 24)).isEqualTo(UUID.fromString(UUID0));
        assertThat(Wire.u8(dd, 40)).isEqualTo(NamespaceIdDescriptorList.NIDT_CSI);
        assertThat(Wire.u8(dd, 41)).isEqualTo(1);
        assertThat(Wire.u8(dd, 44)).isZero();
        assertThat(Wire.u8(dd, 45)).isZero(); // end of list
        NamespaceIdDescriptorList d3 = new NamespaceIdDescriptorList()
                .wrap(identify(k.ctrlr(), Cns.NAMESPACE_ID_DESCRIPTORS, 3).data);
        assertThat(d3.type(0)).isEqualTo(NamespaceIdDescriptorList.NIDT_EUI64);
        assertThat(d3.find(NamespaceIdDescriptorList.NIDT_UUID)).isPositive();
        assertThat(io.keel.nvme.spec.Uuids.read(d3.segment(), d3.find(NamespaceIdDescriptorList.NIDT_UUID) + 4))
                .isEqualTo(UUID.fromString(UUID1));
        assertThat(identify(k.ctrlr(), Cns.NAMESPACE_ID_DESCRIPTORS, 2).code())
                .isEqualTo(Status.INVALID_NAMESPACE_OR_FORMAT);
        assertThat(identify(k.ctrlr(), 0x55, 0).code()).isEqualTo(Status.INVALID_FIELD);
    }

    // ---- log pages ----

    @Test
    void logPagesHonourOffsetAndLength() {
        Conn k = enabled(CNODE1, 0, 0);
        Controller c = k.ctrlr();
        Cmd err = getLog(c, LogPageId.ERROR_INFORMATION, 0, 256);
        assertThat(err.ok()).isTrue();
        assertThat(Wire.bytes(err.data, 0, 256)).containsOnly(0);
        Cmd smart = getLog(c, LogPageId.SMART_HEALTH, 0, 512);
        SmartLog s = new SmartLog().wrap(smart.data);
        assertThat(s.criticalWarning()).isZero();
        assertThat(s.compositeTemperature()).isEqualTo(298);
        assertThat(s.availableSpare()).isEqualTo(100);
        assertThat(s.availableSpareThreshold()).isEqualTo(10);
        assertThat(s.percentageUsed()).isZero();
        // offset 4 of SMART: the next bytes (percentage used at 5, so byte 1 of the slice), 8 bytes only
        Cmd part = getLog(c, LogPageId.SMART_HEALTH, 0, 8);
        Cmd off = getLog(c, LogPageId.SMART_HEALTH, 4, 4);
        assertThat(Wire.bytes(off.data, 0, 4)).isEqualTo(Wire.bytes(part.data, 4, 4));
        Cmd fw = getLog(c, LogPageId.FIRMWARE_SLOT, 0, 512);
        FirmwareSlotLog f = new FirmwareSlotLog().wrap(fw.data);
        assertThat(f.activeSlot()).isEqualTo(1);
        assertThat(f.revision(1)).isEqualTo(Controller.FIRMWARE_REVISION);
        Cmd fwOff = getLog(c, LogPageId.FIRMWARE_SLOT, 8, 8);
        assertThat(Wire.asciiPadded(fwOff.data, 0, 8)).isEqualTo(Controller.FIRMWARE_REVISION);
        Cmd eff = getLog(c, LogPageId.COMMANDS_SUPPORTED_AND_EFFECTS, 0, 4096);
        CommandEffectsLog e = new CommandEffectsLog().wrap(eff.data);
        for (int opc : new int[] {0x02, 0x06, 0x08, 0x09, 0x0A, 0x0C, 0x18}) {
            assertThat(e.admin(opc)).as("admin %x", opc).isEqualTo(CommandEffectsLog.CSUPP);
        }
        assertThat(e.admin(Opcode.FIRMWARE_COMMIT)).isZero();
        assertThat(e.io(Opcode.WRITE)).isEqualTo(CommandEffectsLog.CSUPP | CommandEffectsLog.LBCC);
        assertThat(e.io(Opcode.READ)).isEqualTo(CommandEffectsLog.CSUPP);
        assertThat(e.io(Opcode.FLUSH)).isEqualTo(CommandEffectsLog.CSUPP | CommandEffectsLog.LBCC);
        assertThat(e.io(Opcode.WRITE_ZEROES)).isEqualTo(CommandEffectsLog.CSUPP | CommandEffectsLog.LBCC);
        // the I/O half through an offset
        Cmd effIo = getLog(c, LogPageId.COMMANDS_SUPPORTED_AND_EFFECTS, 1024 + 4, 4);
        assertThat(Wire.u32(effIo.data, 0)).isEqualTo(CommandEffectsLog.CSUPP | CommandEffectsLog.LBCC); // Write
        // past the end of the page: zeroes; offset beyond it or unaligned: Invalid Field
        Cmd tail = getLog(c, LogPageId.SMART_HEALTH, 508, 16);
        assertThat(tail.ok()).isTrue();
        assertThat(Wire.bytes(tail.data, 4, 12)).containsOnly(0);
        assertThat(getLog(c, LogPageId.SMART_HEALTH, 516, 4).code()).isEqualTo(Status.INVALID_FIELD);
        assertThat(getLog(c, LogPageId.SMART_HEALTH, 2, 4).code()).isEqualTo(Status.INVALID_FIELD);
        assertThat(getLog(c, 0x33, 0, 4).code()).isEqualTo(Status.INVALID_LOG_PAGE);
        assertThat(getLog(c, LogPageId.DISCOVERY, 0, 1024).code()).isEqualTo(Status.INVALID_LOG_PAGE);
    }

    @Test
    void discoveryLogPage() {
        // without listeners (the Target has none yet): an empty page
        Conn k = enabled(Nqn.DISCOVERY, 0, 0);
        Cmd empty = getLog(k.ctrlr(), LogPageId.DISCOVERY, 0, 1024);
        assertThat(empty.ok()).isTrue();
        DiscoveryLog h = new DiscoveryLog().wrap(empty.data);
        assertThat(h.numrec()).isZero();
        assertThat(h.recfmt()).isZero();
        // with listeners from a source: the current discovery subsystem first, then the subsystems this host may use
        ListenAddress a = new ListenAddress("TCP", "IPv4", "127.0.0.1", "4420");
        Controller d = onApp(() -> {
            ControllerManager mgr = new ControllerManager(target, s -> List.of(a));
            Controller c = mgr.connect(connectCmd(0, 31, 0, Nqn.DISCOVERY, OTHER_HOST, 0xFFFF), TCP, 0).controller();
            c.execute(propSet(Properties.CC, 4, CC_ENABLE), 0);
            mgr.discoveryLogChanged();
            return c;
        });
        Cmd page = getLog(d, LogPageId.DISCOVERY, 0, 4 * 1024);
        assertThat(page.ok()).isTrue();
        DiscoveryLog p = new DiscoveryLog().wrap(page.data);
        assertThat(p.genctr()).isEqualTo(1);
        assertThat(p.numrec()).isEqualTo(3); // discovery, cnode1, cnode3 (cnode2 does not allow OTHER_HOST)
        DiscoveryLog.Entry e = p.entry(new DiscoveryLog.Entry(), 0);
        assertThat(e.trtype()).isEqualTo(3);
        assertThat(e.adrfam()).isEqualTo(1);
        assertThat(e.subtype()).isEqualTo(3);
        assertThat(e.eflags()).isEqualTo(3);
        assertThat(e.treq()).isEqualTo(DiscoveryLog.TREQ_SECURE_NOT_REQUIRED);
        assertThat(e.portid()).isZero();
        assertThat(e.cntlid()).isEqualTo(0xFFFF);
        assertThat(e.asqsz()).isEqualTo(128);
        assertThat(e.trsvcid()).isEqualTo("4420");
        assertThat(Wire.u8(page.data, 1024 + 32 + 4)).isEqualTo(0x20); // space padded
        assertThat(e.subnqn()).isEqualTo(Nqn.DISCOVERY);
        assertThat(e.traddr()).isEqualTo("127.0.0.1");
        p.entry(e, 1);
        assertThat(e.subtype()).isEqualTo(2);
        assertThat(e.eflags()).isZero();
        assertThat(e.subnqn()).isEqualTo(CNODE1);
        assertThat(p.entry(e, 2).subnqn()).isEqualTo(CNODE3);
        // the second entry alone, through LPO/NUMD
        Cmd second = getLog(d, LogPageId.DISCOVERY, 2048, 1024);
        assertThat(Wire.utf8Z(second.data, 256, 256)).isEqualTo(CNODE1);
        // a length past the page: zeroes after it
        Cmd longer = getLog(d, LogPageId.DISCOVERY, 3072, 2048);
        assertThat(Wire.utf8Z(longer.data, 256, 256)).isEqualTo(CNODE3);
        assertThat(Wire.bytes(longer.data, 1024, 1024)).containsOnly(0);
    }

    // ---- features ----

    @Test
    void features() {
        Conn k = enabled(CNODE1, 0, 0);
        Controller c = k.ctrlr();
        // Number of Queues: granted min(requested, max_io_qpairs_per_ctrlr), 0-based in DW0
        Cmd get = feature(c, false, FeatureId.NUMBER_OF_QUEUES, 0);
        assertThat(get.dw0).isEqualTo(126 << 16 | 126); // "Number of I/O Submission Queues: 127"
        Cmd set = feature(c, true, FeatureId.NUMBER_OF_QUEUES, FeatureId.numberOfQueues(8, 8));
        assertThat(set.ok()).isTrue();
        assertThat(set.dw0).isEqualTo(7 << 16 | 7);
        assertThat(c.grantedIoQueues()).isEqualTo(8);
        Cmd many = feature(c, true, FeatureId.NUMBER_OF_QUEUES, FeatureId.numberOfQueues(1000, 1000));
        assertThat(many.dw0).isEqualTo(126 << 16 | 126);
        assertThat(feature(c, true, FeatureId.NUMBER_OF_QUEUES, 0xFFFF).code()).isEqualTo(Status.INVALID_FIELD);
        assertThat(feature(c, false, FeatureId.NUMBER_OF_QUEUES, 0).dw0).isEqualTo(126 << 16 | 126);
        // Keep Alive Timer: rounded up to KAS granularity
        assertThat(feature(c, true, FeatureId.KEEP_ALIVE_TIMER, 15_000).ok()).isTrue();
        assertThat(feature(c, false, FeatureId.KEEP_ALIVE_TIMER, 0).dw0).isEqualTo(20_000);
        assertThat(c.katoMs()).isEqualTo(20_000);
        // Async Event Configuration
        assertThat(feature(c, true, FeatureId.ASYNC_EVENT_CONFIGURATION, 1 << 8).ok()).isTrue();
        assertThat(feature(c, false, FeatureId.ASYNC_EVENT_CONFIGURATION, 0).dw0).isEqualTo(1 << 8);
        // Arbitration, Power Management
        assertThat(feature(c, false, FeatureId.ARBITRATION, 0).dw0).isZero(); // burst 2^0 = 1
        assertThat(feature(c, true, FeatureId.ARBITRATION, 3).ok()).isTrue();
        assertThat(feature(c, false, FeatureId.ARBITRATION, 0).dw0).isEqualTo(3);
        assertThat(feature(c, true, FeatureId.POWER_MANAGEMENT, 0).ok()).isTrue();
        assertThat(feature(c, true, FeatureId.POWER_MANAGEMENT, 1).code()).isEqualTo(Status.INVALID_FIELD);
        assertThat(feature(c, false, FeatureId.POWER_MANAGEMENT, 0).dw0).isZero();
        // Volatile Write Cache: malloc has none
        assertThat(feature(c, false, FeatureId.VOLATILE_WRITE_CACHE, 0).dw0).isZero();
        assertThat(feature(c, true, FeatureId.VOLATILE_WRITE_CACHE, 1).code()).isEqualTo(Status.INVALID_FIELD);
        // unknown feature, saving, supported capabilities
        assertThat(feature(c, false, 0x7E, 0).code()).isEqualTo(Status.INVALID_FIELD);
        assertThat(feature(c, true, FeatureId.TIMESTAMP, 0).code()).isEqualTo(Status.INVALID_FIELD);
        Cmd save = admin(Opcode.SET_FEATURES);
        save.sqe.features().fid(FeatureId.ARBITRATION).sv(true);
        assertThat(run(c, save).code()).isEqualTo(Status.FEATURE_ID_NOT_SAVEABLE);
        Cmd caps = admin(Opcode.GET_FEATURES);
        caps.sqe.features().fid(FeatureId.KEEP_ALIVE_TIMER).sel(FeatureId.SEL_SUPPORTED_CAPABILITIES);
        assertThat(run(c, caps).dw0).isEqualTo(4);
        // Abort: "not aborted"
        Cmd abort = admin(Opcode.ABORT);
        abort.sqe.abort().sqid(0).cid(9);
        assertThat(run(c, abort).ok()).isTrue();
        assertThat(abort.dw0 & 1).isEqualTo(1);
        assertThat(run(c, admin(0x7D)).code()).isEqualTo(Status.INVALID_OPCODE);
    }

    // ---- asynchronous events ----

    @Test
    void asyncEventRequestHeldUntilANamespaceChanges() {
        Conn k = enabled(CNODE3, 0, 0);
        Controller c = k.ctrlr();
        assertThat(feature(c, true, FeatureId.ASYNC_EVENT_CONFIGURATION, 1 << 8).ok()).isTrue();
        Cmd[] aers = new Cmd[5];
        for (int i = 0; i < 4; i++) {
            aers[i] = run(c, admin(Opcode.ASYNC_EVENT_REQUEST));
            assertThat(aers[i].completions).isZero(); // held
        }
        aers[4] = run(c, admin(Opcode.ASYNC_EVENT_REQUEST));
        assertThat(aers[4].code()).isEqualTo(Status.ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED);
        assertThat(c.heldAsyncEventRequests()).isEqualTo(4);
        // a namespace comes: one AER completes with Notice / NS attribute changed / log 04h
        t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE3, "namespace", params("bdev_name", "Malloc3")));
        onApp(() -> {
            k.mgr().namespaceChanged(CNODE3, 2);
            return null;
        });
        assertThat(aers[0].ok()).isTrue();
        assertThat(aers[0].dw0).isEqualTo(0x04_00_02);
        assertThat(aers[1].completions).isZero();
        // a second change before the log is read: masked (no second AEN)
        onApp(() -> {
            k.mgr().namespaceChanged(CNODE3, 2);
            return null;
        });
        assertThat(aers[1].completions).isZero();
        Cmd log = getLog(c, LogPageId.CHANGED_NAMESPACE_LIST, 0, 4096);
        assertThat(Wire.u32(log.data, 0)).isEqualTo(2);
        assertThat(Wire.u32(log.data, 4)).isZero();
        // reading it cleared the list and re-armed the event
        assertThat(Wire.u32(getLog(c, LogPageId.CHANGED_NAMESPACE_LIST, 0, 4096).data, 0)).isZero();
        onApp(() -> {
            c.namespaceChanged(1);
            return null;
        });
        assertThat(aers[1].ok()).isTrue();
        // the new namespace is in the active list now
        Cmd list = identify(c, Cns.ACTIVE_NAMESPACE_LIST, 0);
        assertThat(Wire.u32(list.data, 0)).isEqualTo(1);
        assertThat(Wire.u32(list.data, 4)).isEqualTo(2);
        // a reset aborts the AERs still held
        run(c, propSet(Properties.CC, 4, 0));
        assertThat(aers[2].code()).isEqualTo(Status.ABORTED_SQ_DELETION);
        assertThat(aers[3].code()).isEqualTo(Status.ABORTED_SQ_DELETION);
    }

    @Test
    void eventWithoutAnAerWaitsForOne() {
        Conn k = enabled(CNODE1, 0, 0);
        Controller c = k.ctrlr();
        feature(c, true, FeatureId.ASYNC_EVENT_CONFIGURATION, 1 << 8);
        onApp(() -> {
            c.namespaceChanged(1);
            return null;
        });
        Cmd aer = run(c, admin(Opcode.ASYNC_EVENT_REQUEST));
        assertThat(aer.ok()).isTrue();
        assertThat(aer.dw0).isEqualTo(0x04_00_02);
        // not enabled: recorded in the log, no event
        Conn k2 = enabled(CNODE1, 0, 0);
        Cmd held = run(k2.ctrlr(), admin(Opcode.ASYNC_EVENT_REQUEST));
        onApp(() -> {
            k2.ctrlr().namespaceChanged(3);
            return null;
        });
        assertThat(held.completions).isZero();
        assertThat(Wire.u32(getLog(k2.ctrlr(), LogPageId.CHANGED_NAMESPACE_LIST, 0, 8).data, 0)).isEqualTo(3);
    }

    // ---- keep-alive (R8) ----

    @Test
    void keepAliveExpiresPerControllerOverAllItsQueues() {
        long t0 = 1_000_000_000L;
        onApp(() -> {
            ControllerManager mgr = new ControllerManager(target);
            Cmd a = connectCmd(0, 31, 10_000, CNODE1, HOST, 0xFFFF);
            Controller c = mgr.connect(a, TCP, t0).controller();
            c.execute(propSet(Properties.CC, 4, CC_ENABLE), t0);
            assertThat(c.katoMs()).isEqualTo(10_000);
            ControllerManager.Binding io = mgr.connect(connectCmd(1, 31, 0, CNODE1, HOST, c.cntlid()), TCP, t0);
            assertThat(c.checkKeepAlive(t0 + 10_000 * MS)).isFalse();
            // only the I/O queue (which may live on another thread) sees commands: the controller stays alive
            io.activity().touch(t0 + 9_000 * MS);
            assertThat(c.checkKeepAlive(t0 + 15_000 * MS)).isFalse();
            io.activity().touch(t0 + 18_000 * MS);
            assertThat(c.checkKeepAlive(t0 + 27_000 * MS)).isFalse();
            // a Keep Alive on the admin queue counts too
            Cmd ka = admin(Opcode.KEEP_ALIVE);
            c.execute(ka, t0 + 26_000 * MS);
            assertThat(ka.ok()).isTrue();
            assertThat(c.checkKeepAlive(t0 + 36_000 * MS)).isFalse();
            assertThat(mgr.checkKeepAlive(t0 + 36_000 * MS)).isEmpty();
            // nothing on any queue for KATO: expired, torn down by the manager's poll
            assertThat(c.checkKeepAlive(t0 + 36_000 * MS + 1)).isTrue();
            assertThat(c.state()).isEqualTo(Controller.State.KEEP_ALIVE_EXPIRED);
            assertThat(mgr.checkKeepAlive(t0 + 36_000 * MS + 1)).containsExactly(c);
            assertThat(c.state()).isEqualTo(Controller.State.DESTROYED);
            assertThat(mgr.controllers(CNODE1)).isEmpty();
            Cmd late = admin(Opcode.KEEP_ALIVE);
            c.execute(late, t0 + 37_000 * MS);
            assertThat(late.code()).isEqualTo(Status.COMMAND_SEQUENCE_ERROR);
            // another controller with KATO 0 never expires; controllers expire independently
            Controller c2 = mgr.connect(connectCmd(0, 31, 0, CNODE1, HOST, 0xFFFF), TCP, t0).controller();
            Controller c3 = mgr.connect(connectCmd(0, 31, 10_000, CNODE1, HOST, 0xFFFF), TCP, t0).controller();
            c3.activity(0).touch(t0 + 100_000 * MS);
            assertThat(mgr.checkKeepAlive(t0 + 105_000 * MS)).isEmpty();
            assertThat(c2.checkKeepAlive(Long.MAX_VALUE / 2)).isFalse();
            assertThat(mgr.checkKeepAlive(t0 + 111_000 * MS)).containsExactly(c3);
            assertThat(mgr.controllers(CNODE1)).containsExactly(c2);
            return null;
        });
    }

    @Test
    void subsystemsSeenByTheTests() {
        assertThat(onApp(() -> target.subsystem(CNODE2).hostAllowed(HOST))).isTrue();
        assertThat(onApp(() -> target.subsystem(CNODE1).type())).isEqualTo(NvmfSubsystem.Type.NVME);
    }
}
