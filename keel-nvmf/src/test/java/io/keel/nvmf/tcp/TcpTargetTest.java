package io.keel.nvmf.tcp;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import ch.qos.logback.classic.Level;
import io.keel.bdev.BdevTestApp;
import io.keel.core.testing.LogCapture;
import io.keel.nvme.spec.ConnectData;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.Properties;
import io.keel.nvme.spec.Status;
import io.keel.nvme.tcp.PduType;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TCP transport end to end inside one JVM: a target app on two interrupt-mode reactors (two poll groups)
 * and {@link SocketHost}s connecting over real loopback sockets.
 */
class TcpTargetTest {
    static final String CNODE1 = "nqn.2016-06.io.spdk:cnode1";
    static final int CC_ENABLE = 1 | 6 << 16 | 4 << 20; // EN, IOSQES 64 B, IOCQES 16 B
    static final int BLOCKS = 2048;

    @TempDir
    Path dir;
    BdevTestApp t;
    int port;

    @AfterEach
    void stop() throws Exception {
        if (t != null) {
            t.close();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A target with Malloc0 (1 MiB) as namespace 1 of cnode1 on a free port; {@code transport} adds options. */
    void target(Object... transport) throws IOException {
        t = BdevTestApp.start(dir);
        port = serveMalloc0(t, transport);
    }

    /** Malloc0 (1 MiB) as namespace 1 of cnode1 over TCP ({@code transport}: options) on a free port: the port. */
    static int serveMalloc0(BdevTestApp t, Object... transport) throws IOException {
        int port = freePort();
        t.rpc("bdev_malloc_create", params("name", "Malloc0", "block_size", 512, "num_blocks", BLOCKS));
        Map<String, Object> tp = params(transport);
        tp.put("trtype", "TCP");
        t.rpc("nvmf_create_transport", tp);
        t.rpc("nvmf_create_subsystem", params("nqn", CNODE1, "allow_any_host", true));
        t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1, "namespace", params("bdev_name", "Malloc0")));
        t.rpc("nvmf_subsystem_add_listener", params("nqn", CNODE1, "listen_address", address(port)));
        return port;
    }

    /** {@link #target()} plus namespace 2 on Delay1, a delay bdev over a 64-block malloc (latencies in µs). */
    void targetWithDelayNamespace(long readMicros, long writeMicros) throws IOException {
        target();
        t.rpc("bdev_malloc_create", params("name", "Malloc1", "block_size", 512, "num_blocks", 64));
        t.rpc("bdev_delay_create", params("name", "Delay1", "base_bdev_name", "Malloc1", "avg_read_latency",
                readMicros, "p99_read_latency", readMicros, "avg_write_latency", writeMicros, "p99_write_latency",
                writeMicros));
        t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1, "namespace", params("bdev_name", "Delay1", "nsid", 2)));
    }

    static Map<String, Object> address(int port) {
        return params("trtype", "tcp", "adrfam", "ipv4", "traddr", "127.0.0.1", "trsvcid", Integer.toString(port));
    }

    /** Admin queue connected and enabled; answers the cntlid. */
    static int enable(SocketHost admin, int kato) throws IOException {
        admin.ic(false, false);
        TestHost.Pdu c = admin.connect(0, 31, kato, CNODE1, SocketHost.HOSTNQN, ConnectData.CNTLID_DYNAMIC);
        assertThat(c.statusCode()).isEqualTo(Status.SUCCESS);
        assertThat(admin.propertySet(Properties.CC, 4, CC_ENABLE).statusCode()).isEqualTo(Status.SUCCESS);
        TestHost.Pdu csts = admin.propertyGet(Properties.CSTS, 4);
        assertThat(csts.dw0() & 1).isEqualTo(1);
        return c.dw0() & 0xFFFF;
    }

    static SocketHost ioQueue(int port, int cntlid, int qid, boolean digests) throws IOException {
        SocketHost io = new SocketHost(port);
        io.ic(digests, digests);
        TestHost.Pdu c = io.connect(qid, 127, 0, CNODE1, SocketHost.HOSTNQN, cntlid);
        assertThat(c.statusCode()).isEqualTo(Status.SUCCESS);
        return io;
    }

    static byte[] pattern(int length, int seed) {
        return TestHost.pattern(length, seed);
    }

    @Test
    void hostConnectsIdentifiesWritesAndReadsBackThenErrorsGetTheirStatus() throws Exception {
        target();
        try (SocketHost admin = new SocketHost(port)) {
            int cntlid = enable(admin, 0);
            byte[] id = new byte[4096];
            admin.sqe(Opcode.IDENTIFY, 9, 0).identify().cns(1);
            admin.submit(null, id.length);
            assertThat(admin.response(id).statusCode()).isEqualTo(Status.SUCCESS);
            assertThat(ByteBuffer.wrap(id).order(java.nio.ByteOrder.LITTLE_ENDIAN).getShort(0)).isEqualTo((short) 0x8086);
            assertThat(new String(id, 768, CNODE1.length(), StandardCharsets.US_ASCII)).isEqualTo(CNODE1);

            for (boolean digests : new boolean[] {false, true}) {
                try (SocketHost io = ioQueue(port, cntlid, digests ? 2 : 1, digests)) {
                    byte[] big = pattern(4096, digests ? 1 : 2);
                    byte[] small = pattern(1024, digests ? 3 : 4);
                    assertThat(io.write(1, 1, 8, 8, big, false).statusCode()).isEqualTo(Status.SUCCESS);
                    assertThat(io.write(2, 1, 100, 2, small, true).statusCode()).isEqualTo(Status.SUCCESS);
                    byte[] back = new byte[4096];
                    assertThat(io.read(3, 1, 8, 8, back).statusCode()).isEqualTo(Status.SUCCESS);
                    assertThat(back).isEqualTo(big);
                    byte[] back2 = new byte[1024];
                    io.read(4, 1, 100, 2, back2);
                    assertThat(back2).isEqualTo(small);

                    assertThat(io.read(5, 1, BLOCKS - 1, 2, new byte[1024]).statusCode())
                            .isEqualTo(Status.LBA_OUT_OF_RANGE);
                    assertThat(io.read(6, 9, 0, 1, new byte[512]).statusCode())
                            .isEqualTo(Status.INVALID_NAMESPACE_OR_FORMAT);
                    io.sqe(0x55, 7, 1);
                    io.submit(null, 0);
                    assertThat(io.response(null).statusCode()).isEqualTo(Status.INVALID_OPCODE);
                }
            }

            await().atMost(Duration.ofSeconds(5)) // the I/O queues closed; the admin queue stays
                    .until(() -> t.rpc("nvmf_subsystem_get_qpairs", params("nqn", CNODE1)).size() == 1);
            JsonNode qpairs = t.rpc("nvmf_subsystem_get_qpairs", params("nqn", CNODE1));
            assertThat(qpairs.get(0).get("qid").asInt()).isZero();
            assertThat(qpairs.get(0).get("listen_address").get("trsvcid").asText()).isEqualTo(Integer.toString(port));
            JsonNode ctrlrs = t.rpc("nvmf_subsystem_get_controllers", params("nqn", CNODE1));
            assertThat(ctrlrs.get(0).get("cntlid").asInt()).isEqualTo(cntlid);
            assertThat(ctrlrs.get(0).get("hostnqn").asText()).isEqualTo(SocketHost.HOSTNQN);
        }
        await().atMost(Duration.ofSeconds(5))
                .until(() -> t.rpc("nvmf_subsystem_get_controllers", params("nqn", CNODE1)).isEmpty());
        JsonNode stats = t.rpc("nvmf_get_stats", null);
        assertThat(stats.get("poll_groups")).hasSize(2);
        long completed = 0;
        for (JsonNode g : stats.get("poll_groups")) {
            completed += g.get("completed_nvme_io").asLong();
            assertThat(g.get("current_io_qpairs").asInt()).isZero();
            assertThat(g.get("transports").get(0).get("trtype").asText()).isEqualTo("TCP");
        }
        assertThat(completed).isEqualTo(14);
    }

    @Test
    void aHostNotOnTheAllowListIsRefusedAndAnUnknownListenerToo() throws Exception {
        target();
        t.rpc("nvmf_create_subsystem", params("nqn", "nqn.2016-06.io.spdk:cnode2"));
        t.rpc("nvmf_subsystem_add_host", params("nqn", "nqn.2016-06.io.spdk:cnode2", "host", "nqn.2014-08.org.x:ok"));
        t.rpc("nvmf_subsystem_add_listener", params("nqn", "nqn.2016-06.io.spdk:cnode2", "listen_address",
                address(port)));
        try (SocketHost h = new SocketHost(port)) {
            h.ic(false, false);
            TestHost.Pdu r = h.connect(0, 31, 0, "nqn.2016-06.io.spdk:cnode2", SocketHost.HOSTNQN, 0xFFFF);
            assertThat(r.statusCode()).isEqualTo(Status.CONNECT_INVALID_HOST);
            TestHost.Pdu ok = h.connect(0, 31, 0, "nqn.2016-06.io.spdk:cnode2", "nqn.2014-08.org.x:ok", 0xFFFF);
            assertThat(ok.statusCode()).isEqualTo(Status.SUCCESS);
        }
        int other = freePort();
        t.rpc("nvmf_subsystem_add_listener", params("nqn", "nqn.2014-08.org.nvmexpress.discovery", "listen_address",
                address(other)));
        try (SocketHost h = new SocketHost(other)) { // cnode1 does not listen there
            h.ic(false, false);
            TestHost.Pdu r = h.connect(0, 31, 0, CNODE1, SocketHost.HOSTNQN, 0xFFFF);
            assertThat(r.statusCode()).isEqualTo(Status.CONNECT_INVALID_HOST);
        }
    }

    /** R10: a poll group whose connection memory is spent refuses the Connect that asks for more, and says why. */
    @Test
    void aConnectThatFindsQueueMemorySpentIsRefusedWithControllerBusyAndALogLine() throws Exception {
        target("keel_queue_memory_mb", 1); // 512 KiB per poll group: an admin queue fits, a 128-deep I/O queue not
        try (LogCapture log = LogCapture.of(TcpQpair.class); SocketHost admin = new SocketHost(port)) {
            int cntlid = enable(admin, 0);
            try (SocketHost io = new SocketHost(port)) {
                io.ic(false, false);
                TestHost.Pdu c = io.connect(1, 127, 0, CNODE1, SocketHost.HOSTNQN, cntlid);
                assertThat(c.statusCode()).isEqualTo(Status.CONTROLLER_BUSY);
                TestHost.Pdu small = io.connect(1, 15, 0, CNODE1, SocketHost.HOSTNQN, cntlid); // 16 deep fits
                assertThat(small.statusCode()).isEqualTo(Status.SUCCESS);
                byte[] back = new byte[512];
                assertThat(io.read(1, 1, 0, 1, back).statusCode()).isEqualTo(Status.SUCCESS);
            }
            assertThat(log.messages(Level.INFO)).anySatisfy(m -> assertThat(m).contains("Connect of queue 1")
                    .contains("queue memory spent").contains("keel_queue_memory_mb"));
            JsonNode tcp = t.rpc("nvmf_get_stats", null).get("poll_groups").get(0).get("transports").get(0);
            assertThat(tcp.get("queue_memory_limit").asLong()).isEqualTo(512 * 1024);
        }
        assertThat(t.rpc("nvmf_get_stats", null).findValues("queue_memory_refusals").stream()
                .mapToLong(JsonNode::asLong).sum()).isEqualTo(1);
    }

    /** S3: a data buffer pool of one per poll group under 32 pipelined reads and writes: all complete. */
    @Test
    void tinyBufferPoolsKeepIoFlowingAndPendingCountsReturnToZero() throws Exception {
        target("num_shared_buffers", 2, "in_capsule_data_size", 0);
        try (SocketHost admin = new SocketHost(port)) {
            int cntlid = enable(admin, 0);
            try (SocketHost io = ioQueue(port, cntlid, 1, false)) {
                int n = 32;
                for (int i = 0; i < n; i++) { // writes through R2T, all submitted at once
                    io.sqe(Opcode.WRITE, i, 1).rw().slba(i * 8L).blockCount(8);
                    io.submit(null, 4096);
                }
                int done = 0;
                while (done < n) {
                    TestHost.Pdu p = io.next();
                    if (p.type() == PduType.R2T) {
                        io.h2c(p, pattern(4096, p.cccid()));
                    } else {
                        assertThat(p.statusCode()).isEqualTo(Status.SUCCESS);
                        done++;
                    }
                }
                for (int i = 0; i < n; i++) {
                    io.sqe(Opcode.READ, i, 1).rw().slba(i * 8L).blockCount(8);
                    io.submit(null, 4096);
                }
                Map<Integer, byte[]> got = new LinkedHashMap<>();
                while (got.size() < n) {
                    TestHost.Pdu p = io.next();
                    assertThat(p.type()).isEqualTo(PduType.C2H_DATA);
                    got.put(p.cccid(), p.data());
                }
                got.forEach((cid, data) -> assertThat(data).isEqualTo(pattern(4096, cid)));
            }
        }
        JsonNode groups = t.rpc("nvmf_get_stats", null).get("poll_groups");
        long waits = 0;
        for (JsonNode g : groups) {
            JsonNode tcp = g.get("transports").get(0);
            assertThat(tcp.get("pending_data_buffer").asInt()).isZero();
            assertThat(tcp.get("data_buffers_in_use").asInt()).isZero();
            assertThat(tcp.get("data_buffer_pool_size").asInt()).isEqualTo(1);
            waits += tcp.get("data_buffer_waits").asLong();
        }
        assertThat(waits).isPositive();
    }

    /**
     * R8/S3: the admin queue on one poll group is silent while the I/O queue on the other keeps the controller
     * alive; once all queues are silent the controller expires and the target closes both connections.
     */
    @Test
    void keepAliveIsJudgedOnTheControllerAcrossPollGroups() throws Exception {
        target("min_kato", 1000, "kas", 10);
        try (SocketHost admin = new SocketHost(port)) {
            int cntlid = enable(admin, 1000);
            try (SocketHost io = ioQueue(port, cntlid, 1, false)) {
                JsonNode qpairs = t.rpc("nvmf_subsystem_get_qpairs", params("nqn", CNODE1));
                assertThat(qpairs.get(0).get("thread").asText()).isNotEqualTo(qpairs.get(1).get("thread").asText());
                long end = System.nanoTime() + Duration.ofMillis(2500).toNanos();
                int cid = 0;
                while (System.nanoTime() < end) {
                    assertThat(io.read(cid++ & 0xFF, 1, 0, 1, new byte[512]).statusCode()).isEqualTo(Status.SUCCESS);
                    Thread.sleep(50);
                }
                assertThat(t.rpc("nvmf_subsystem_get_controllers", params("nqn", CNODE1))).hasSize(1);
                long silentFrom = System.nanoTime();
                assertThat(admin.next()).isNull(); // the target closed the admin connection
                assertThat(io.next()).isNull();
                long waitedMs = (System.nanoTime() - silentFrom) / 1_000_000;
                assertThat(waitedMs).isBetween(500L, 5000L);
            }
        }
        assertThat(t.rpc("nvmf_subsystem_get_controllers", params("nqn", CNODE1))).isEmpty();
    }

    /**
     * Namespace hot add and remove under a connected host: an Asynchronous Event Request held by the target
     * completes with a Namespace Attribute Changed notice, the new namespace takes I/O at once on the existing
     * I/O queue, and once removed its NSID is refused with Invalid Namespace.
     */
    @Test
    void namespacesComeAndGoUnderAConnectedHost() throws Exception {
        target();
        t.rpc("bdev_malloc_create", params("name", "Malloc1", "block_size", 4096, "num_blocks", 64));
        try (SocketHost admin = new SocketHost(port)) {
            int cntlid = enable(admin, 0);
            admin.sqe(Opcode.SET_FEATURES, 20, 0).features().fid(0x0B);
            admin.sqeCdw11(1 << 8); // namespace attribute notices
            admin.submit(null, 0);
            assertThat(admin.response(null).statusCode()).isEqualTo(Status.SUCCESS);
            admin.sqe(Opcode.ASYNC_EVENT_REQUEST, 21, 0);
            admin.submit(null, 0);
            try (SocketHost io = ioQueue(port, cntlid, 1, false)) {
                assertThat(io.read(1, 2, 0, 1, new byte[4096]).statusCode())
                        .isEqualTo(Status.INVALID_NAMESPACE_OR_FORMAT);
                t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1, "namespace", params("bdev_name", "Malloc1",
                        "nsid", 2)));
                TestHost.Pdu aen = admin.response(null);
                assertThat(aen.cid()).isEqualTo(21);
                assertThat(aen.dw0() & 0x7).isEqualTo(2); // notice
                assertThat(aen.dw0() >>> 16 & 0xFF).isEqualTo(0x04); // changed namespace list log page
                byte[] data = pattern(4096, 7);
                untilStatus(() -> io.write(2, 2, 3, 1, data, false), Status.SUCCESS); // the table is a message away
                byte[] back = new byte[4096];
                assertThat(io.read(3, 2, 3, 1, back).statusCode()).isEqualTo(Status.SUCCESS);
                assertThat(back).isEqualTo(data);
                t.rpc("nvmf_subsystem_remove_ns", params("nqn", CNODE1, "nsid", 2));
                untilStatus(() -> io.read(4, 2, 0, 1, new byte[4096]), Status.INVALID_NAMESPACE_OR_FORMAT);
                assertThat(io.read(5, 1, 0, 1, new byte[512]).statusCode()).isEqualTo(Status.SUCCESS);
            }
        }
    }

    /**
     * The pause of a namespace removal: a read in flight on the namespace (a 300 ms delay bdev) completes
     * successfully, and nvmf_subsystem_remove_ns answers only after it drained; the bdev is released then.
     */
    @Test
    void removingANamespaceWaitsForItsInFlightIo() throws Exception {
        targetWithDelayNamespace(300_000, 0);
        try (SocketHost admin = new SocketHost(port)) {
            int cntlid = enable(admin, 0);
            try (SocketHost io = ioQueue(port, cntlid, 1, false)) {
                io.sqe(Opcode.READ, 1, 2).rw().slba(0).blockCount(1);
                io.submit(null, 512);
                Thread.sleep(50); // the read is on the delay bdev now
                long start = System.nanoTime();
                java.util.concurrent.CompletableFuture<Long> removed = java.util.concurrent.CompletableFuture
                        .supplyAsync(() -> {
                            t.rpc("nvmf_subsystem_remove_ns", params("nqn", CNODE1, "nsid", 2));
                            return (System.nanoTime() - start) / 1_000_000;
                        });
                assertThat(io.response(new byte[512]).statusCode()).isEqualTo(Status.SUCCESS);
                assertThat(removed.get(10, java.util.concurrent.TimeUnit.SECONDS)).isGreaterThanOrEqualTo(150L);
                assertThat(t.rpc("bdev_get_bdevs", params("name", "Delay1")).get(0).get("claimed").asBoolean())
                        .isFalse();
                assertThat(io.read(2, 2, 0, 1, new byte[512]).statusCode())
                        .isEqualTo(Status.INVALID_NAMESPACE_OR_FORMAT);
            }
        }
    }

    /**
     * Held output (interrupt-mode reactors): sixteen fast writes while a 1 s read stays in flight are answered
     * long before the read, so completions held while other commands are in flight are written once the host is
     * quiet, not when the queue drains; then the slow read, the last command in flight, is answered too.
     */
    @Test
    void completionsHeldWhileOthersAreInFlightAreWrittenOnceTheHostIsQuiet() throws Exception {
        targetWithDelayNamespace(1_000_000, 0);
        try (SocketHost admin = new SocketHost(port)) {
            int cntlid = enable(admin, 0);
            try (SocketHost io = ioQueue(port, cntlid, 1, false)) {
                io.sqe(Opcode.READ, 100, 2).rw().slba(0).blockCount(1);
                io.submit(null, 512);
                byte[] block = new byte[512];
                for (int cid = 1; cid <= 16; cid++) {
                    io.sqe(Opcode.WRITE, cid, 1).rw().slba(cid).blockCount(1);
                    io.submit(block, 0);
                }
                long start = System.nanoTime();
                for (int i = 0; i < 16; i++) {
                    TestHost.Pdu r = io.response(null);
                    assertThat(r.statusCode()).isEqualTo(Status.SUCCESS);
                    assertThat(r.cid()).isBetween(1, 16);
                }
                assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(500);
                TestHost.Pdu slow = io.response(new byte[512]); // c2h_success: the C2HData answers
                assertThat(slow.type() == PduType.C2H_DATA ? slow.cccid() : slow.cid()).isEqualTo(100);
                assertThat(slow.statusCode()).isEqualTo(Status.SUCCESS);
            }
        }
    }

    /**
     * Held read data leaves in writes of {@link TcpPollGroup#HELD_DATA_PDUS} PDUs: 96 reads that the target reads
     * in one go and completes in one batch are answered in at least six socket writes (held to the burst's end, they
     * were one or two), and every read gets its data.
     */
    @Test
    void aBurstOfReadsIsWrittenInPiecesAsItCompletes() throws Exception {
        target();
        try (SocketHost admin = new SocketHost(port)) {
            int cntlid = enable(admin, 0);
            try (SocketHost io = ioQueue(port, cntlid, 1, false)) {
                long before = socketWrites();
                io.cork();
                for (int cid = 1; cid <= 96; cid++) {
                    io.sqe(Opcode.READ, cid, 1).rw().slba(cid).blockCount(1);
                    io.submit(null, 512);
                }
                io.uncork();
                boolean[] answered = new boolean[97];
                for (int i = 0; i < 96; i++) {
                    TestHost.Pdu r = io.response(new byte[512]);
                    int cid = r.type() == PduType.C2H_DATA ? r.cccid() : r.cid();
                    assertThat(r.statusCode()).isEqualTo(Status.SUCCESS);
                    assertThat(answered[cid]).isFalse();
                    answered[cid] = true;
                }
                assertThat(socketWrites() - before).isGreaterThanOrEqualTo(6);
            }
        }
    }

    /**
     * An early write of held read data gives buffers back from inside the write, which lets writes waiting for a
     * buffer go on and commit their R2Ts into the same send buffer: thirteen reads take each poll group's thirteen
     * buffers, eight writes behind them in the same segment wait, and every PDU the host gets is whole and belongs
     * to a command it sent.
     */
    @Test
    void readsWrittenEarlyWhileWritesWaitForTheirBuffersKeepTheStreamWhole() throws Exception {
        target("num_shared_buffers", 26, "in_capsule_data_size", 0);
        try (SocketHost admin = new SocketHost(port)) {
            int cntlid = enable(admin, 0);
            try (SocketHost io = ioQueue(port, cntlid, 1, false)) {
                io.cork();
                for (int cid = 0; cid < 13; cid++) {
                    io.sqe(Opcode.READ, cid, 1).rw().slba(cid).blockCount(1);
                    io.submit(null, 512);
                }
                for (int cid = 100; cid < 108; cid++) {
                    io.sqe(Opcode.WRITE, cid, 1).rw().slba(cid).blockCount(1);
                    io.submit(null, 512);
                }
                io.uncork();
                int reads = 0;
                int writes = 0;
                while (reads < 13 || writes < 8) {
                    TestHost.Pdu p = io.next();
                    if (p.type() == PduType.R2T) {
                        assertThat(p.cccid()).isBetween(100, 107);
                        io.h2c(p, pattern(512, p.cccid()));
                    } else if (p.type() == PduType.C2H_DATA) {
                        assertThat(p.cccid()).isBetween(0, 12);
                        reads++;
                    } else {
                        assertThat(p.type()).isEqualTo(PduType.CAPSULE_RESP);
                        assertThat(p.cid()).isBetween(100, 107);
                        assertThat(p.statusCode()).isEqualTo(Status.SUCCESS);
                        writes++;
                    }
                }
            }
        }
        JsonNode stats = t.rpc("nvmf_get_stats", null);
        assertThat(stats.findValues("data_buffer_pool_size")).allMatch(n -> n.asInt() == 13);
        assertThat(stats.findValues("data_buffer_waits").stream().mapToLong(JsonNode::asLong).sum()).isPositive();
    }

    private long socketWrites() {
        return t.rpc("nvmf_get_stats", null).findValues("socket_writes").stream().mapToLong(JsonNode::asLong).sum();
    }

    /**
     * Never released under a write in flight: a queue that closes with a write on a 1 s delay bdev no longer holds
     * up the namespace's removal, but the bdev's write claim is released only once that write has completed.
     */
    @Test
    void aNamespaceRemovedUnderAWriteInFlightReleasesItsBdevOnlyAfterTheWrite() throws Exception {
        targetWithDelayNamespace(0, 1_000_000);
        try (SocketHost admin = new SocketHost(port)) {
            int cntlid = enable(admin, 0);
            SocketHost io = ioQueue(port, cntlid, 1, false);
            io.sqe(Opcode.WRITE, 1, 2).rw().slba(0).blockCount(1);
            io.submit(pattern(512, 9), 0);
            Thread.sleep(100); // the write is on the delay bdev now
            long start = System.nanoTime();
            io.close(); // the queue closes with its write in flight
            await().atMost(Duration.ofSeconds(2))
                    .until(() -> t.rpc("nvmf_subsystem_get_qpairs", params("nqn", CNODE1)).size() == 1);
            t.rpc("nvmf_subsystem_remove_ns", params("nqn", CNODE1, "nsid", 2));
            assertThat(t.rpc("bdev_get_bdevs", params("name", "Delay1")).get(0).get("claimed").asBoolean())
                    .as("claimed while the write runs").isTrue();
            await().atMost(Duration.ofSeconds(5)).until(() -> !t.rpc("bdev_get_bdevs", params("name", "Delay1"))
                    .get(0).get("claimed").asBoolean());
            assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(700L);
        }
    }

    /**
     * A poll group stopped with a read in flight waits for it before it frees its buffers and closes its iobuf
     * channel (it used to leave the channel open with the buffer out), and the shutdown still ends in time.
     */
    @Test
    void shutdownWithAReadInFlightWaitsForItThenFreesEverything() throws Exception {
        targetWithDelayNamespace(500_000, 0);
        try (LogCapture log = LogCapture.of("io.keel"); SocketHost admin = new SocketHost(port)) {
            int cntlid = enable(admin, 0);
            try (SocketHost io = ioQueue(port, cntlid, 1, false)) {
                io.sqe(Opcode.READ, 1, 2).rw().slba(0).blockCount(1);
                io.submit(null, 512);
                Thread.sleep(100); // the read holds a data buffer on the delay bdev now
                long start = System.nanoTime();
                t.close();
                t = null;
                long ms = (System.nanoTime() - start) / 1_000_000;
                assertThat(ms).isLessThan(5_000);
            }
            assertThat(log.messages(Level.WARN)).noneSatisfy(m -> assertThat(m).containsAnyOf("still held",
                    "dropped", "left"));
        }
    }

    interface Command {
        TestHost.Pdu run() throws IOException;
    }

    /** Repeats {@code c} (on this thread: the host is confined to it) until it answers {@code status}, 5 s at most. */
    static void untilStatus(Command c, int status) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        int last;
        do {
            last = c.run().statusCode();
            if (last == status) {
                return;
            }
            Thread.sleep(10);
        } while (System.nanoTime() < end);
        throw new AssertionError("status " + Integer.toHexString(last) + ", expected " + Integer.toHexString(status));
    }

    /** R4: deleting a subsystem with a host connected closes the host's connections and completes. */
    @Test
    void deletingASubsystemDisconnectsItsHosts() throws Exception {
        target();
        try (SocketHost admin = new SocketHost(port)) {
            int cntlid = enable(admin, 0);
            try (SocketHost io = ioQueue(port, cntlid, 1, false)) {
                assertThat(io.read(1, 1, 0, 1, new byte[512]).statusCode()).isEqualTo(Status.SUCCESS);
                t.rpc("nvmf_delete_subsystem", params("nqn", CNODE1));
                assertThat(io.next()).isNull();
                assertThat(admin.next()).isNull();
            }
        }
        assertThat(t.rpc("nvmf_get_subsystems", null)).hasSize(1); // discovery only
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            for (JsonNode g : t.rpc("nvmf_get_stats", null).get("poll_groups")) {
                if (g.get("current_io_qpairs").asInt() + g.get("current_admin_qpairs").asInt() > 0) {
                    return false;
                }
            }
            return true;
        });
        JsonNode bdev = t.rpc("bdev_get_bdevs", params("name", "Malloc0")).get(0);
        assertThat(bdev.get("claimed").asBoolean()).isFalse();
    }

    /** R5: a peer that opens a connection and says nothing (or only ICReq) is closed after the connect timeout. */
    @Test
    void aSilentConnectionIsClosedAfterTheConnectTimeout() throws Exception {
        System.setProperty("keel.nvmf.tcp.connect_timeout_ms", "700");
        try {
            target();
        } finally {
            System.clearProperty("keel.nvmf.tcp.connect_timeout_ms");
        }
        try (SocketHost silent = new SocketHost(port); SocketHost icOnly = new SocketHost(port);
                SocketHost admin = new SocketHost(port)) {
            icOnly.ic(false, false);
            enable(admin, 0); // connected in time: stays
            long start = System.nanoTime();
            assertThat(silent.next()).isNull();
            assertThat(icOnly.next()).isNull();
            assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5000);
            assertThat(admin.propertyGet(Properties.CSTS, 4).statusCode()).isEqualTo(Status.SUCCESS);
        }
    }

    /** Bad input: garbage and mutated PDUs on other connections never disturb a connected host's I/O. */
    @Test
    void randomAndMutatedPdusCloseOnlyTheirOwnConnection() throws Exception {
        target();
        java.util.Random rnd = new java.util.Random(42);
        try (SocketHost admin = new SocketHost(port)) {
            int cntlid = enable(admin, 0);
            try (SocketHost io = ioQueue(port, cntlid, 1, true)) {
                byte[] good = pattern(4096, 9);
                for (int round = 0; round < 60; round++) {
                    try (SocketHost bad = new SocketHost(port)) {
                        byte[] junk;
                        if (round % 2 == 0) {
                            junk = new byte[8 + rnd.nextInt(300)];
                            rnd.nextBytes(junk);
                        } else { // a valid ICReq, then a mutated capsule
                            bad.ic(rnd.nextBoolean(), rnd.nextBoolean());
                            junk = capsuleBytes(rnd);
                        }
                        bad.sendRaw(junk);
                        bad.socket.shutdownOutput();
                        TestHost.Pdu p;
                        do {
                            p = nextOrClosed(bad);
                        } while (p != null && p.type() != PduType.C2H_TERM_REQ);
                    }
                    assertThat(io.write(round & 0xFF, 1, 16, 8, good, false).statusCode()).isEqualTo(Status.SUCCESS);
                }
                byte[] back = new byte[4096];
                io.read(1, 1, 16, 8, back);
                assertThat(back).isEqualTo(good);
            }
        }
    }

    private static TestHost.Pdu nextOrClosed(SocketHost h) throws IOException {
        try {
            return h.next();
        } catch (IOException | AssertionError e) {
            return null; // reset by the target, or bytes our strict reader refuses: the connection is over either way
        }
    }

    /** A CapsuleCmd header (type 4, hlen 72) with random bytes mutated in it. */
    private static byte[] capsuleBytes(java.util.Random rnd) {
        byte[] b = new byte[72 + rnd.nextInt(64)];
        rnd.nextBytes(b);
        b[0] = 4;
        b[1] = (byte) (rnd.nextInt(4) == 0 ? rnd.nextInt(256) : 0);
        b[2] = 72;
        b[3] = 0;
        int plen = rnd.nextInt(3) == 0 ? rnd.nextInt() : b.length;
        b[4] = (byte) plen;
        b[5] = (byte) (plen >>> 8);
        b[6] = (byte) (plen >>> 16);
        b[7] = (byte) (plen >>> 24);
        return Arrays.copyOf(b, b.length);
    }
}
