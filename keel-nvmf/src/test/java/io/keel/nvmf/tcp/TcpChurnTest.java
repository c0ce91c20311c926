package io.keel.nvmf.tcp;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.core.testing.NativeMemory;
import io.keel.nvme.spec.ConnectData;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.SglDescriptor;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;
import io.keel.nvme.tcp.PduEncoder;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile and churning clients cannot grow the target (rule R10): thousands of connections of each kind — clean
 * (connect an I/O queue, write, read, close), a bare TCP connect and close, ICReq then close, a malformed PDU, a
 * Connect with SQSIZE 65535, a connection that stops in the middle of a PDU — and afterwards, without forcing a
 * garbage collection, the process's native memory is back near where it started, every pool counter of the
 * transport is back to zero and, once warm, the churn allocated no new connection memory at all.
 * {@code -Dkeel.churn.connections=N} sets the count per kind (default 5000).
 */
class TcpChurnTest {
    static final int PER_KIND = Integer.getInteger("keel.churn.connections", 5000);
    static final int WARM_UP = 200;
    /** What the process may have gained in NMT's "Other" over the whole churn (JDK socket caches and the like). */
    static final long NATIVE_SLACK = 8L << 20;

    private final PduEncoder enc = new PduEncoder();
    private byte[] icReq;
    private byte[] malformed;
    private byte[] hugeSqsize;
    private byte[] halfCapsule;

    @TempDir
    Path dir;
    private final TcpTargetTest target = new TcpTargetTest();
    private int port;

    @AfterEach
    void stop() throws Exception {
        target.stop();
    }

    @Test
    void connectionChurnOfEveryKindLeavesNothingBehind() throws Exception {
        target.dir = dir;
        target.target();
        port = target.port;
        encodeRawPdus();
        try (SocketHost admin = new SocketHost(port); SocketHost io = new SocketHost(port)) {
            int cntlid = TcpTargetTest.enable(admin, 0);
            churn(io, cntlid, WARM_UP);
            awaitIdle();
            long nativeBefore = NativeMemory.otherCommitted();
            long allocationsBefore = sum(stats(), "queue_memory_allocations");
            long inUseBefore = sum(stats(), "queue_memory_in_use"); // the admin queue's

            long t0 = System.nanoTime();
            churn(io, cntlid, PER_KIND);
            awaitIdle();
            long ms = (System.nanoTime() - t0) / 1_000_000;

            JsonNode groups = stats();
            long nativeAfter = NativeMemory.otherCommitted();
            System.out.printf("churn: %d connections of 6 kinds in %d ms; NMT Other %d -> %d KiB; queue memory "
                    + "allocations %d -> %d, kept %d KiB%n", PER_KIND, ms, nativeBefore >> 10, nativeAfter >> 10,
                    allocationsBefore, sum(groups, "queue_memory_allocations"), sum(groups, "queue_memory_kept") >> 10);
            // blocks are allocated only when more connections are alive at once than ever before (each of the
            // 6 * PER_KIND connections would take two or three without the pool)
            assertThat(sum(groups, "queue_memory_allocations") - allocationsBefore)
                    .as("blocks allocated rather than reused during the churn").isLessThan(PER_KIND * 6 / 20);
            assertThat(nativeAfter - nativeBefore).as("native memory gained over the churn")
                    .isLessThan(NATIVE_SLACK);
            assertThat(sum(groups, "queue_memory_in_use")).isEqualTo(inUseBefore);
            assertThat(sum(groups, "requests_in_use")).isZero();
            JsonNode pool = target.t.rpc("keel_bdev_get_io_pool", null);
            long cached = 0;
            for (JsonNode th : pool.get("threads")) {
                cached += th.get("cached").asLong();
            }
            assertThat(pool.get("bdev_io_pool_available").asLong() + cached).as("every bdev_io back in the pool")
                    .isEqualTo(pool.get("bdev_io_pool_size").asLong());
        }
    }

    /** A connection that has sent its ICReq but no Connect holds about 2 KiB of native memory, nothing more. */
    @Test
    void aConnectionCostsLittleUntilItIsAQueue() throws Exception {
        target.dir = dir;
        target.target();
        port = target.port;
        encodeRawPdus();
        long before = sum(stats(), "queue_memory_in_use");
        java.util.List<Socket> idle = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 500; i++) {
                Socket s = new Socket("127.0.0.1", port);
                s.setSoLinger(true, 0);
                s.getOutputStream().write(icReq);
                idle.add(s);
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> sum(stats(), "current_unassociated_qpairs") == 500);
            long perConnection = (sum(stats(), "queue_memory_in_use") - before) / 500;
            System.out.printf("an unconnected connection holds %d bytes of queue memory%n", perConnection);
            assertThat(perConnection).isLessThanOrEqualTo(3 * 1024);
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> sum(stats(), "current_unassociated_qpairs") == 0);
        assertThat(sum(stats(), "queue_memory_in_use")).isEqualTo(before);
    }

    /** {@code n} connections of each kind, interleaved. */
    private void churn(SocketHost io, int cntlid, int n) throws Exception {
        byte[] data = TcpTargetTest.pattern(4096, 5);
        byte[] back = new byte[4096];
        for (int i = 0; i < n; i++) {
            int qid = 1 + i % 100; // a queue's qid is free again well before it comes round
            io.reopen(port);
            io.ic(false, false);
            TestHost.Pdu c = io.connect(qid, 127, 0, TcpTargetTest.CNODE1, SocketHost.HOSTNQN, cntlid);
            assertThat(c.statusCode()).as("connect of I/O queue %d", qid).isEqualTo(Status.SUCCESS);
            assertThat(io.write(1, 1, 8, 8, data, false).statusCode()).isEqualTo(Status.SUCCESS);
            assertThat(io.read(2, 1, 8, 8, back).statusCode()).isEqualTo(Status.SUCCESS);
            raw(null);
            raw(icReq);
            raw(malformed);
            raw(hugeSqsize);
            raw(halfCapsule);
        }
        io.closeSocket();
    }

    /** Connects, sends {@code bytes} (none: nothing), closes with a reset. */
    private void raw(byte[] bytes) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoLinger(true, 0);
            if (bytes != null) {
                s.getOutputStream().write(bytes);
            }
        }
    }

    private void encodeRawPdus() {
        MemorySegment tx = MemorySegment.ofArray(new long[1024]); // heap, 8-byte aligned
        int ic = enc.icReq(tx, 0, 0, 0, false, false, 0);
        icReq = tx.asSlice(0, ic).toArray(ValueLayout.JAVA_BYTE);
        byte[] bad = Arrays.copyOf(icReq, ic + 8);
        bad[ic] = 0x7F; // an unknown PDU type after a valid ICReq
        bad[ic + 2] = 8;
        bad[ic + 4] = 8;
        malformed = bad;

        MemorySegment sqeBuf = MemorySegment.ofArray(new long[8]);
        Sqe sqe = new Sqe().wrap(sqeBuf, 0);
        sqe.fabrics().init(Opcode.Fabrics.CONNECT, 1);
        sqe.psdt(Sqe.PSDT_SGL_MPTR_CONTIGUOUS);
        sqe.connect().qid(0).sqsize(65535).kato(0);
        sqe.sgl().identifier(SglDescriptor.ID_IN_CAPSULE).length(ConnectData.SIZE).address(0);
        MemorySegment cd = MemorySegment.ofArray(new long[ConnectData.SIZE / 8]);
        new ConnectData().wrap(cd, 0).hostId(SocketHost.HOSTID).cntlid(ConnectData.CNTLID_DYNAMIC).subnqn(TcpTargetTest.CNODE1)
                .hostnqn(SocketHost.HOSTNQN);
        int n = enc.capsuleCmd(tx, ic, sqeBuf, 0, cd, 0, ConnectData.SIZE);
        hugeSqsize = tx.asSlice(0, ic + n).toArray(ValueLayout.JAVA_BYTE);
        halfCapsule = Arrays.copyOf(hugeSqsize, ic + n / 2);
    }

    private void awaitIdle() {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
            JsonNode g = stats();
            return sum(g, "current_io_qpairs") == 0 && sum(g, "current_unassociated_qpairs") == 0
                    && sum(g, "data_buffers_in_use") == 0 && sum(g, "pending_data_buffer") == 0;
        });
    }

    private JsonNode stats() {
        return target.t.rpc("nvmf_get_stats", null).get("poll_groups");
    }

    /** A counter summed over the poll groups (their own field or their TCP transport entry's). */
    private static long sum(JsonNode groups, String field) {
        long n = 0;
        for (JsonNode g : groups) {
            JsonNode v = g.has(field) ? g.get(field) : g.get("transports").get(0).get(field);
            n += v.asLong();
        }
        return n;
    }
}
