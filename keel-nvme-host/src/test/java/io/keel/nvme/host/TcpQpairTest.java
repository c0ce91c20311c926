package io.keel.nvme.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.SocketTimeoutException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The host queue pair and controller bring-up against {@link FakeController}, over real loopback sockets. */
class TcpQpairTest {
    private static final int BS = 512;
    private final Arena arena = Arena.ofShared();
    private FakeController fake;
    private TcpController ctrl;

    @AfterEach
    void tearDown() throws IOException {
        if (ctrl != null) {
            ctrl.close();
        }
        if (fake != null) {
            fake.close();
        }
        arena.close();
    }

    private TcpController connect(boolean digests) throws IOException {
        HostOptions o = HostOptions.defaults().withDigests(digests, digests).withTimeout(Duration.ofSeconds(5));
        ctrl = TcpController.connect(fake.trid(), o);
        return ctrl;
    }

    @Test
    void bringsUpTheControllerAndLearnsTheNamespace() throws IOException {
        fake = new FakeController(2048, BS);
        TcpController c = connect(false);
        assertThat(c.cntlid()).isEqualTo(FakeController.CNTLID);
        assertThat(c.maxQueueEntries()).isEqualTo(128);
        assertThat(c.ioInCapsuleBytes()).isEqualTo(4096);
        assertThat(c.identifyNamespace(1)).isEqualTo(new Namespace(1, 2048, BS));
        assertThat(c.setNumberOfQueues(3)).isEqualTo(3);
        c.keepAlive();
        assertThat(fake.keepAlives.get()).isEqualTo(1);
        assertThat(fake.lastHostNqn).startsWith("nqn.2014-08.org.nvmexpress:uuid:");
    }

    @Test
    void readCompletesOnC2hDataWithTheSuccessFlag() throws IOException {
        fake = new FakeController(2048, BS);
        fake.c2hChunk = 1000; // several C2HData PDUs, the last with SUCCESS
        pattern(fake.store, 8 * BS, 3 * BS, 5);
        try (TcpQpair q = connect(false).connectIoQueue(1, 4, 1 << 16)) {
            MemorySegment buf = arena.allocate(3 * BS);
            int[] seen = {-1, -1};
            q.handler((cid, status, result) -> {
                seen[0] = cid;
                seen[1] = status;
            });
            assertThat(q.read(2, 1, 8, 3, buf, 0, 3 * BS)).isTrue();
            pollUntilIdle(q);
            assertThat(seen).containsExactly(2, 0);
            assertThat(fake.successFlagReads.get()).isEqualTo(1);
            assertThat(buf.mismatch(fake.store.asSlice(8 * BS, 3 * BS))).isEqualTo(-1);
        }
    }

    @Test
    void readCompletesOnCapsuleRespWithoutTheSuccessFlag() throws IOException {
        fake = new FakeController(2048, BS);
        fake.c2hSuccess = false;
        pattern(fake.store, 0, BS, 9);
        try (TcpQpair q = connect(false).connectIoQueue(1, 4, 1 << 16)) {
            MemorySegment buf = arena.allocate(BS);
            q.read(0, 1, 0, 1, buf, 0, BS);
            pollUntilIdle(q);
            assertThat(q.status(0)).isZero();
            assertThat(buf.mismatch(fake.store.asSlice(0, BS))).isEqualTo(-1);
        }
    }

    @Test
    void largeWriteGoesThroughR2tInMaxH2CDataChunks() throws IOException {
        fake = new FakeController(2048, BS);
        fake.ioccsz = 4; // nothing in the capsule
        try (TcpQpair q = connect(false).connectIoQueue(1, 4, 1 << 16)) {
            MemorySegment buf = arena.allocate(32 * BS);
            pattern(buf, 0, 32 * BS, 1);
            q.write(1, 1, 100, 32, buf, 0, 32 * BS);
            pollUntilIdle(q);
            assertThat(q.status(1)).isZero();
            assertThat(fake.r2ts.get()).isEqualTo(1);
            assertThat(fake.inCapsuleWrites.get()).isZero();
            assertThat(fake.store.asSlice(100 * BS, 32 * BS).mismatch(buf)).isEqualTo(-1);
        }
    }

    @Test
    void smallWriteGoesInTheCapsule() throws IOException {
        fake = new FakeController(2048, BS);
        try (TcpQpair q = connect(false).connectIoQueue(1, 4, 1 << 16)) {
            MemorySegment buf = arena.allocate(8 * BS);
            pattern(buf, 0, 8 * BS, 2);
            q.write(0, 1, 7, 8, buf, 0, 8 * BS);
            pollUntilIdle(q);
            assertThat(fake.inCapsuleWrites.get()).isEqualTo(1);
            assertThat(fake.r2ts.get()).isZero();
            assertThat(fake.store.asSlice(7 * BS, 8 * BS).mismatch(buf)).isEqualTo(-1);
        }
    }

    @Test
    void headerAndDataDigestsCarryWritesAndReads() throws IOException {
        fake = new FakeController(2048, BS);
        TcpController c = connect(true);
        try (TcpQpair q = c.connectIoQueue(1, 4, 1 << 16)) {
            assertThat(q.headerDigest()).isTrue();
            assertThat(q.dataDigest()).isTrue();
            MemorySegment out = arena.allocate(16 * BS);
            MemorySegment small = arena.allocate(2 * BS);
            MemorySegment back = arena.allocate(16 * BS);
            pattern(out, 0, 16 * BS, 4);
            pattern(small, 0, 2 * BS, 6);
            q.write(0, 1, 0, 16, out, 0, 16 * BS); // R2T, two H2CData PDUs
            q.write(1, 1, 64, 2, small, 0, 2 * BS); // in capsule
            pollUntilIdle(q);
            q.read(2, 1, 0, 16, back, 0, 16 * BS);
            pollUntilIdle(q);
            assertThat(q.status(0) | q.status(1) | q.status(2)).isZero();
            assertThat(back.mismatch(out)).isEqualTo(-1);
            assertThat(fake.store.asSlice(64 * BS, 2 * BS).mismatch(small)).isEqualTo(-1);
            assertThat(fake.digestsSeen).isTrue();
        }
    }

    @Test
    void pipelinesAFullQueueOfMixedCommands() throws IOException {
        fake = new FakeController(4096, BS);
        int depth = 32;
        try (TcpQpair q = connect(false).connectIoQueue(1, depth, 1 << 16)) {
            MemorySegment bufs = arena.allocate((long) depth * 4096);
            int[] done = {0};
            int[] failed = {0};
            q.handler((cid, status, result) -> {
                done[0]++;
                failed[0] += status != 0 ? 1 : 0;
            });
            int submitted = 0;
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (done[0] < 2000) {
                for (int cid = 0; cid < depth && submitted < 2000; cid++) {
                    if (!q.busy(cid)) {
                        boolean w = (submitted & 1) == 0;
                        long slba = (submitted * 8L) % 4096;
                        boolean ok = w ? q.write(cid, 1, slba, 8, bufs, cid * 4096L, 4096)
                                : q.read(cid, 1, slba, 8, bufs, cid * 4096L, 4096);
                        submitted += ok ? 1 : 0;
                    }
                }
                q.poll();
                assertThat(System.nanoTime()).isLessThan(deadline);
            }
            assertThat(failed[0]).isZero();
            assertThat(q.outstanding()).isZero();
        }
    }

    @Test
    void steadyStateIoAllocatesNothingOnThePollingThread() throws IOException {
        fake = new FakeController(4096, BS);
        fake.ioccsz = 4; // writes through R2T too
        int depth = 8;
        try (TcpQpair q = connect(true).connectIoQueue(1, depth, 1 << 16)) {
            MemorySegment bufs = arena.allocate((long) depth * 4096);
            long[] done = {0};
            q.handler((cid, status, result) -> done[0]++);
            var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            runIo(q, bufs, depth, 20_000, done); // warm-up: JIT, Crc32c views, socket internals
            long before = mx.getCurrentThreadAllocatedBytes();
            runIo(q, bufs, depth, 20_000, done);
            long bytes = mx.getCurrentThreadAllocatedBytes() - before;
            assertThat(bytes).as("bytes allocated over 20000 I/Os").isLessThan(20_000);
        }
    }

    private static void runIo(TcpQpair q, MemorySegment bufs, int depth, long count, long[] done) throws IOException {
        long target = done[0] + count;
        long n = 0;
        while (done[0] < target) {
            for (int cid = 0; cid < depth; cid++) {
                if (!q.busy(cid)) {
                    long slba = (n * 8) % 4096;
                    boolean sent = (n & 1) == 0 ? q.write(cid, 1, slba, 8, bufs, cid * 4096L, 4096)
                            : q.read(cid, 1, slba, 8, bufs, cid * 4096L, 4096);
                    n += sent ? 1 : 0;
                }
            }
            q.poll();
        }
    }

    @Test
    void connectTimesOutWhenTheControllerNeverAnswersTheICReq() throws IOException {
        fake = new FakeController(64, BS);
        fake.answerIcReq = false;
        HostOptions o = HostOptions.defaults().withTimeout(Duration.ofMillis(300));
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> TcpController.connect(fake.trid(), o)).isInstanceOf(SocketTimeoutException.class)
                .hasMessageContaining("ICResp");
        assertThat(System.nanoTime() - t0).isLessThan(3_000_000_000L);
    }

    @Test
    void ioQueueConnectNeedsTheControllerIdOfTheAdminConnect() throws IOException {
        fake = new FakeController(64, BS);
        TcpController c = connect(false);
        assertThat(fake.connects.get()).isEqualTo(1);
        c.connectIoQueue(1, 2, 1 << 16).close();
        assertThat(fake.connects.get()).isEqualTo(2);
    }

    private static void pollUntilIdle(TcpQpair q) throws IOException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (q.outstanding() > 0) {
            q.poll();
            assertThat(System.nanoTime()).isLessThan(deadline);
        }
    }

    private static void pattern(MemorySegment s, long off, long len, int seed) {
        for (long i = 0; i < len; i++) {
            s.set(ValueLayout.JAVA_BYTE, off + i, (byte) (i * 31 + seed * 7 + (i >>> 9)));
        }
    }
}
