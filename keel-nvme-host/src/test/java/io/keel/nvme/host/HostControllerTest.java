package io.keel.nvme.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.core.reactor.ReactorOptions;
import io.keel.core.reactor.ReactorRuntime;
import io.keel.core.sys.NioFds;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.OnThread;
import io.keel.nvme.host.tcp.TcpHostTransport;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.Properties;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The host's controller state machine and its TCP queue pairs on real reactors (interrupt mode) against
 * {@link FakeController} over loopback: bring-up, I/O in the capsule and through R2T with data in several
 * segments, digests, the pending list beyond the queue depth, bounded connects, a controller that goes away under
 * the host, graceful detach, and no allocation per I/O.
 */
class HostControllerTest {
    private ReactorRuntime rt;
    private FakeController fake;
    private KeelThread adminThread;
    private KeelThread ioThread;
    private HostPollGroup adminGroup;
    private HostPollGroup ioGroup;
    private final Arena arena = Arena.ofShared();
    private final List<String> lost = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0, 1), true));
        fake = new FakeController(2048, 512);
        adminThread = rt.createThread("host_admin", CpuMask.of(0));
        ioThread = rt.createThread("host_io", CpuMask.of(1));
        adminGroup = OnThread.call(adminThread, () -> new HostPollGroup(adminThread));
        ioGroup = OnThread.call(ioThread, () -> new HostPollGroup(ioThread));
    }

    @AfterEach
    void stop() throws Exception {
        rt.close();
        fake.close();
        arena.close();
    }

    private final HostController.Listener listener = new HostController.Listener() {
        @Override
        public void lost(HostController c, String reason) {
            lost.add("controller: " + reason);
        }

        @Override
        public void namespacesChanged(HostController c, List<Integer> added, List<Integer> removed,
                List<Integer> resized) {
        }
    };

    private final HostQpair.Listener ioListener = new HostQpair.Listener() {
        @Override
        public void connected(HostQpair q) {
        }

        @Override
        public void lost(HostQpair q, String reason) {
            lost.add("qpair " + q.qid() + ": " + reason);
        }
    };

    private HostController controller(ControllerOptions o, CompletableFuture<String> done) throws Exception {
        TransportId trid = fake.trid();
        return OnThread.call(adminThread, () -> {
            HostController c = new HostController(adminGroup, TcpHostTransport.INSTANCE, trid, o, listener);
            c.start(err -> done.complete(err == null ? "ok" : err));
            return c;
        });
    }

    private HostController up(ControllerOptions o) throws Exception {
        CompletableFuture<String> done = new CompletableFuture<>();
        HostController c = controller(o, done);
        assertThat(OnThread.await(done)).isEqualTo("ok");
        return c;
    }

    private HostQpair ioQueue(HostController c, int queueSize) {
        HostQpair q = OnThread.call(ioThread, () -> {
            HostQpair qp = c.newIoQpair(ioGroup, queueSize, 64, 256 << 10, ioListener);
            qp.connect(-1);
            return qp;
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> q.state() == HostQpair.State.CONNECTED);
        return q;
    }

    /** One NVM read or write of {@code blocks} at {@code lba} over the given segments; answers the status. */
    private int io(HostQpair q, boolean write, long lba, int blocks, MemorySegment... segs) {
        CompletableFuture<Integer> status = new CompletableFuture<>();
        OnThread.run(ioThread, () -> {
            HostRequest r = q.allocate();
            r.sqe().opcode(write ? Opcode.WRITE : Opcode.READ).nsid(1).rw().slba(lba).blockCount(blocks);
            r.toController(write);
            for (MemorySegment s : segs) {
                r.segment(s, 0, s.byteSize());
            }
            int rc = q.submit(r, (a, st, res) -> status.complete(st), null);
            if (rc != 0) {
                status.complete(rc);
            }
        });
        return OnThread.await(status);
    }

    private MemorySegment pattern(int len, int seed) {
        MemorySegment s = arena.allocate(len, 4096);
        for (int i = 0; i < len; i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + seed));
        }
        return s;
    }

    private void detach(HostController c) {
        CompletableFuture<Void> d = new CompletableFuture<>();
        OnThread.run(adminThread, () -> c.detach(() -> d.complete(null)));
        OnThread.await(d);
        assertThat(c.state()).isEqualTo(HostController.State.DETACHED);
    }

    private void close(HostController c, HostQpair q) {
        CompletableFuture<Void> d = new CompletableFuture<>();
        OnThread.run(ioThread, () -> q.disconnect("test over", () -> {
            q.close();
            c.releaseQid(q.qid());
            d.complete(null);
        }));
        OnThread.await(d);
    }

    @Test
    void bringsTheControllerUpLearnsItsNamespaceArmsEventsAndDetachesWithAShutdown() throws Exception {
        HostController c = up(ControllerOptions.defaults());
        assertThat(c.state()).isEqualTo(HostController.State.READY);
        assertThat(c.data().cntlid()).isEqualTo(FakeController.CNTLID);
        assertThat(c.data().ioQueuesGranted()).isGreaterThan(0);
        assertThat(c.namespaces()).containsOnlyKeys(1);
        assertThat(c.namespaces().get(1).blocks()).isEqualTo(2048);
        assertThat(c.namespaces().get(1).blockSize()).isEqualTo(512);
        await().atMost(Duration.ofSeconds(5)).until(() -> fake.aers.get() > 0);
        detach(c);
        assertThat(Properties.Cc.shn(fake.lastCc())).as("CC.SHN set on detach").isEqualTo(Properties.Cc.SHN_NORMAL);
        CompletableFuture<Void> again = new CompletableFuture<>();
        OnThread.run(adminThread, () -> c.detach(() -> again.complete(null)));
        OnThread.await(again);
        assertThat(lost).isEmpty();
    }

    /**
     * Queue IDs are handed out next fit: one just given back is reused last, since a target may still be tearing its
     * old queue down (the kernel's nvmet refused such a Connect with Command Sequence Error).
     */
    @Test
    void aQueueIdGivenBackIsTheLastToBeReused() throws Exception {
        ControllerOptions d = ControllerOptions.defaults();
        HostController c = up(new ControllerOptions(d.hostNqn(), d.hostId(), d.keepAliveMs(), false, false, 3,
                d.adminQueueSize(), d.connectTimeoutMs(), d.adminTimeoutMs()));
        HostQpair first = ioQueue(c, 32);
        HostQpair second = ioQueue(c, 32);
        assertThat(List.of(first.qid(), second.qid())).containsExactly(1, 2);
        close(c, first);
        HostQpair third = ioQueue(c, 32);
        assertThat(third.qid()).as("not the ID just given back").isEqualTo(3);
        close(c, second);
        HostQpair fourth = ioQueue(c, 32);
        assertThat(fourth.qid()).as("after the last, the oldest free one").isEqualTo(1);
        close(c, third);
        close(c, fourth);
        detach(c);
    }

    @Test
    void writesGoInTheCapsuleOrThroughR2tAndReadsScatterIntoSegments() throws Exception {
        fake.maxH2CData = 4096;
        for (boolean success : new boolean[] {true, false}) {
            fake.c2hSuccess = success;
            HostController c = up(ControllerOptions.defaults());
            HostQpair q = ioQueue(c, 32);
            MemorySegment small = pattern(4096, 1);
            assertThat(io(q, true, 0, 8, small)).isZero();
            MemorySegment a = pattern(8192, 2);
            MemorySegment b = pattern(512, 3);
            MemorySegment d = pattern(56832, 4);
            assertThat(io(q, true, 8, 128, a, b, d)).isZero(); // 64 KiB in three segments, through R2T
            assertThat(fake.inCapsuleWrites.get()).isPositive();
            assertThat(fake.r2ts.get()).isPositive();

            MemorySegment back = arena.allocate(65536);
            assertThat(io(q, false, 8, 128, back)).isZero();
            assertThat(back.asSlice(0, 8192).mismatch(a)).isEqualTo(-1);
            assertThat(back.asSlice(8192, 512).mismatch(b)).isEqualTo(-1);
            assertThat(back.asSlice(8704).mismatch(d)).isEqualTo(-1);
            MemorySegment[] parts = {arena.allocate(8192), arena.allocate(512), arena.allocate(56832)};
            assertThat(io(q, false, 8, 128, parts)).isZero(); // large C2HData read straight into three segments
            assertThat(parts[0].mismatch(a)).isEqualTo(-1);
            assertThat(parts[1].mismatch(b)).isEqualTo(-1);
            assertThat(parts[2].mismatch(d)).isEqualTo(-1);
            MemorySegment x = arena.allocate(1000);
            MemorySegment y = arena.allocate(3096);
            assertThat(io(q, false, 0, 8, x, y)).isZero();
            assertThat(x.mismatch(small.asSlice(0, 1000))).isEqualTo(-1);
            assertThat(y.mismatch(small.asSlice(1000))).isEqualTo(-1);
            assertThat(io(q, false, 4000, 8, x, y)).as("out of range").isNotZero();
            close(c, q);
            detach(c);
        }
        assertThat(lost).isEmpty();
    }

    @Test
    void writeDataSentFromTheRequestsOwnBuffersSurvivesPartialSendsOfMegabytes() throws Exception {
        fake.close();
        fake = new FakeController(16384, 512); // 8 MiB
        fake.ioccsz = 4 + 65536 / 16; // 64 KiB in the capsule
        fake.readPiece = 16 << 10; // a slow reader: the host's socket fills and its sends take part of what waits
        for (boolean digests : new boolean[] {false, true}) {
            HostController c = up(ControllerOptions.defaults().withDigests(digests, digests));
            HostQpair q = ioQueue(c, 128);
            int writes = 120; // 7.5 MiB submitted in one turn, more than the socket buffers of both sides hold
            MemorySegment[] head = new MemorySegment[writes];
            MemorySegment[] tail = new MemorySegment[writes];
            CompletableFuture<Integer> failed = new CompletableFuture<>();
            int[] done = new int[1];
            OnThread.run(ioThread, () -> {
                for (int i = 0; i < writes; i++) {
                    head[i] = pattern(4000, 2 * i + (digests ? 1 : 0)); // two segments: a piece boundary mid-write
                    tail[i] = pattern(65536 - 4000, 2 * i + 7);
                    HostRequest r = q.allocate();
                    r.sqe().opcode(Opcode.WRITE).nsid(1).rw().slba(128L * i).blockCount(128);
                    r.toController(true).segment(head[i], 0, 4000).segment(tail[i], 0, 65536 - 4000);
                    q.submit(r, (a, st, res) -> {
                        if (st != 0) {
                            failed.complete(st);
                        } else if (++done[0] == writes) {
                            failed.complete(0);
                        }
                    }, null);
                }
            });
            assertThat(OnThread.await(failed)).as("status of the first failed write, else 0").isZero();
            assertThat(fake.inCapsuleWrites.get()).isGreaterThanOrEqualTo(writes);
            for (int i = 0; i < writes; i++) {
                MemorySegment back = arena.allocate(65536);
                assertThat(io(q, false, 128L * i, 128, back)).isZero();
                assertThat(back.asSlice(0, 4000).mismatch(head[i])).as("write %d, first segment", i).isEqualTo(-1);
                assertThat(back.asSlice(4000).mismatch(tail[i])).as("write %d, second segment", i).isEqualTo(-1);
            }
            close(c, q);
            detach(c);
        }
        assertThat(lost).isEmpty();
    }

    @Test
    void aResponseThatComesBeforeTheWriteDataIsSentCompletesOnlyOnceAllOfItIsWritten() throws Exception {
        fake.close();
        fake = new FakeController(32768, 512); // 16 MiB
        fake.maxH2CData = 1 << 20;
        fake.readPiece = 16 << 10;
        fake.earlyWriteStatus = io.keel.nvme.spec.Status.DATA_TRANSFER_ERROR; // answered at its first data header
        HostController c = up(ControllerOptions.defaults());
        HostQpair q = ioQueue(c, 4);
        MemorySegment data = pattern(16 << 20, 12); // far more than the socket buffers take at once
        MemorySegment original = arena.allocate(data.byteSize());
        original.copyFrom(data);
        CompletableFuture<Integer> status = new CompletableFuture<>();
        OnThread.run(ioThread, () -> {
            HostRequest r = q.allocate();
            r.sqe().opcode(Opcode.WRITE).nsid(1).rw().slba(0).blockCount(32768);
            r.toController(true).segment(data, 0, data.byteSize());
            q.submit(r, (a, st, res) -> {
                data.fill((byte) 0); // the buffer is the caller's again: reused at once
                status.complete(st);
            }, null);
        });
        assertThat(OnThread.await(status)).as("the controller's early answer").isNotZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> fake.h2cPdus.get() == 16);
        assertThat(fake.store.asSlice(0, original.byteSize()).mismatch(original))
                .as("every byte the controller read was sent before the command completed").isEqualTo(-1);
        assertThat(lost).isEmpty();
        close(c, q);
        detach(c);
    }

    @Test
    void headerAndDataDigestsCarryWritesAndReads() throws Exception {
        HostController c = up(ControllerOptions.defaults().withDigests(true, true));
        HostQpair q = ioQueue(c, 16);
        assertThat(fake.digestsSeen).isTrue();
        MemorySegment w = pattern(16384, 9);
        assertThat(io(q, true, 100, 32, w)).isZero();
        MemorySegment r = arena.allocate(16384);
        assertThat(io(q, false, 100, 32, r)).isZero();
        assertThat(r.mismatch(w)).isEqualTo(-1);
        MemorySegment big = pattern(131072, 10);
        assertThat(io(q, true, 200, 256, big)).isZero();
        for (int round = 0; round < 4; round++) { // the data digest over bytes read straight into the segments
            MemorySegment[] parts = {arena.allocate(4096), arena.allocate(61440), arena.allocate(65536)};
            assertThat(io(q, false, 200, 256, parts)).isZero();
            assertThat(parts[0].mismatch(big.asSlice(0, 4096))).isEqualTo(-1);
            assertThat(parts[1].mismatch(big.asSlice(4096, 61440))).isEqualTo(-1);
            assertThat(parts[2].mismatch(big.asSlice(65536))).isEqualTo(-1);
        }
        close(c, q);
        detach(c);
    }

    @Test
    void largeC2hDataArrivingInManySmallPiecesLandsInEverySegmentWithItsDigestChecked() throws Exception {
        try (SocketChannel probe = SocketChannel.open()) {
            assertThat(NioFds.fdOf(probe)).as("socket fds visible: data is read straight into the segments").isPositive();
        }
        HostController c = up(ControllerOptions.defaults().withDigests(true, true));
        HostQpair q = ioQueue(c, 16);
        MemorySegment big = pattern(131072, 11);
        assertThat(io(q, true, 0, 256, big)).isZero();
        fake.sendPiece = 1000;
        for (int chunk : new int[] {1 << 20, 40_000}) { // one C2HData, or four whose headers land mid-read
            fake.c2hChunk = chunk;
            long readsBefore = OnThread.call(ioThread, () -> ioGroup.socketCompletions());
            int[] sizes = {1000, 20_000, 3, 17, 110_052}; // edges inside the pieces, two tiny segments in a row
            MemorySegment[] parts = new MemorySegment[sizes.length];
            for (int i = 0; i < sizes.length; i++) {
                parts[i] = arena.allocate(sizes[i]);
            }
            assertThat(io(q, false, 0, 256, parts)).isZero();
            long reads = OnThread.call(ioThread, () -> ioGroup.socketCompletions()) - readsBefore;
            assertThat(reads).as("socket reads for one 128 KiB read sent in 1000-byte pieces").isGreaterThan(40);
            long at = 0;
            for (MemorySegment p : parts) {
                assertThat(p.mismatch(big.asSlice(at, p.byteSize()))).as("segment at %d", at).isEqualTo(-1);
                at += p.byteSize();
            }
        }
        fake.sendPiece = 0;
        close(c, q);
        detach(c);
        assertThat(lost).isEmpty();
    }

    @Test
    void commandsBeyondTheQueueDepthWaitInThePendingListAndAllComplete() throws Exception {
        HostController c = up(ControllerOptions.defaults());
        HostQpair q = ioQueue(c, 4); // three on the wire at once
        MemorySegment buf = arena.allocate(512L * 40);
        CompletableFuture<Integer> all = new CompletableFuture<>();
        int[] pendingSeen = new int[1];
        OnThread.run(ioThread, () -> {
            int[] done = new int[1];
            for (int i = 0; i < 40; i++) {
                HostRequest r = q.allocate();
                r.sqe().opcode(Opcode.READ).nsid(1).rw().slba(i).blockCount(1);
                r.segment(buf, 512L * i, 512);
                q.submit(r, (a, st, res) -> {
                    if (st != 0) {
                        all.completeExceptionally(new AssertionError("status " + st));
                    } else if (++done[0] == 40) {
                        all.complete(done[0]);
                    }
                }, null);
            }
            pendingSeen[0] = q.pending();
        });
        assertThat(OnThread.await(all)).isEqualTo(40);
        assertThat(pendingSeen[0]).isEqualTo(37);
        assertThat(ioGroup.queued()).isGreaterThanOrEqualTo(37);
        close(c, q);
        detach(c);
    }

    @Test
    void aControllerThatNeverAnswersTheICReqFailsTheBringUpWithinTheBoundAndDetachesAtOnce() throws Exception {
        fake.answerIcReq = false;
        CompletableFuture<String> done = new CompletableFuture<>();
        long t0 = System.nanoTime();
        HostController c = controller(ControllerOptions.defaults().withTimeouts(300, 1000), done);
        assertThat(OnThread.await(done)).contains("connect timed out after 300 ms");
        assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(250L, 5000L);
        assertThat(c.state()).isEqualTo(HostController.State.FAILED);
        detach(c);
    }

    @Test
    void aDetachDuringBringUpEndsTheBringUpWithAnError() throws Exception {
        fake.answerIcReq = false;
        CompletableFuture<String> done = new CompletableFuture<>();
        HostController c = controller(ControllerOptions.defaults(), done);
        detach(c);
        assertThat(OnThread.await(done)).contains("detached while connecting");
    }

    @Test
    void aControllerThatGoesAwayFailsOnceAbortsOutstandingCommandsAndEverythingTearsDownAtOnce() throws Exception {
        HostController c = up(ControllerOptions.defaults());
        HostQpair q = ioQueue(c, 16);
        fake.answerIcReq = true;
        fake.close(); // server and every connection: like a killed target
        await().atMost(Duration.ofSeconds(5)).until(() -> lost.size() == 2);
        assertThat(lost).anyMatch(s -> s.startsWith("controller: admin queue lost"))
                .anyMatch(s -> s.startsWith("qpair " + q.qid() + ": controller"));
        assertThat(c.state()).isEqualTo(HostController.State.FAILED);
        assertThat(q.state()).isEqualTo(HostQpair.State.DISCONNECTED);
        assertThat(io(q, false, 0, 1, arena.allocate(512))).as("-ENXIO on a disconnected queue").isEqualTo(-6);
        close(c, q); // disconnecting a disconnected queue completes at once
        detach(c);
        assertThat(lost).hasSize(2);
    }

    @Test
    void aCommandPastTheTimeoutIsReportedOncePerTimeoutPeriod() throws Exception {
        HostController c = up(ControllerOptions.defaults());
        HostQpair q = ioQueue(c, 8);
        List<String> expired = new CopyOnWriteArrayList<>();
        OnThread.run(ioThread, () -> q.commandTimeout(100_000_000L,
                (qp, cid, opcode, n) -> expired.add("cid " + cid + " opcode " + opcode + " #" + n)));
        assertThat(io(q, false, 0, 1, arena.allocate(512))).as("answered in time: nothing reported").isZero();
        fake.holdReads = true;
        OnThread.run(ioThread, () -> {
            HostRequest r = q.allocate();
            r.sqe().opcode(Opcode.READ).nsid(1).rw().slba(0).blockCount(1);
            r.segment(arena.allocate(512), 0, 512);
            q.submit(r, (a, st, res) -> expired.add("ended " + st), null);
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> expired.size() >= 2);
        // #n counts the periods the command has been outstanding: a check the loaded machine ran late skips numbers
        assertThat(expired.get(0)).matches("cid \\d+ opcode 2 #\\d+");
        assertThat(expired.get(1)).matches("cid \\d+ opcode 2 #\\d+");
        assertThat(reportNumber(expired.get(1))).isGreaterThan(reportNumber(expired.get(0)));
        close(c, q); // the held read ends aborted when the queue goes
        assertThat(expired).contains("ended " + HostStatus.ABORTED_SQ_DELETION);
        detach(c);
    }

    private static int reportNumber(String report) {
        return Integer.parseInt(report.substring(report.lastIndexOf('#') + 1));
    }

    @Test
    void steadyStateIoAllocatesNothingOnTheQueuesThread() throws Exception {
        // writes go out in one sendmsg of headers and the slots' own buffers, through a downcall without errno capture
        assertThat(allocatedPerIo(ControllerOptions.defaults(), 4096, 20_000, 40_000, 1)).as("4 KiB").isLessThan(1.0);
    }

    @Test
    void largeReadsStraightIntoManyBuffersWithDigestsAllocateNothing() throws Exception {
        // 32 KiB reads take the direct path (readv, bound without errno capture) and the data digest is computed over
        // each slot's own buffer
        assertThat(allocatedPerIo(ControllerOptions.defaults().withDigests(true, true), 32768, 20_000, 20_000, 1))
                .as("32 KiB with digests").isLessThan(1.0);
    }

    /**
     * Bytes allocated per I/O on the queue's thread: I/Os of {@code ioBytes} alternating writes and reads, 32 in flight,
     * each slot with its own buffer; after {@code warm} I/Os, the allocation of each window of {@code window} I/Os,
     * until one allocates under a byte per I/O or {@code windows} were measured. Answers the last window's figure.
     */
    private double allocatedPerIo(ControllerOptions o, int ioBytes, long warm, long window, int windows)
            throws Exception {
        HostController c = up(o);
        HostQpair q = ioQueue(c, 33);
        int blocks = ioBytes / 512;
        MemorySegment[] bufs = new MemorySegment[32];
        for (int i = 0; i < bufs.length; i++) {
            bufs[i] = arena.allocate(ioBytes, 4096);
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        CompletableFuture<Double> result = new CompletableFuture<>();
        OnThread.run(ioThread, () -> {
            long[] state = new long[3]; // completed, allocated at the window's start, windows measured
            boolean[] stopping = new boolean[1];
            HostCompletion[] cb = new HostCompletion[1];
            cb[0] = (arg, st, res) -> {
                long n = ++state[0];
                if (n == warm) {
                    state[1] = mx.getCurrentThreadAllocatedBytes();
                } else if (n > warm && (n - warm) % window == 0 && !stopping[0]) {
                    long now = mx.getCurrentThreadAllocatedBytes();
                    double perIo = (double) (now - state[1]) / window;
                    state[1] = now;
                    if (perIo < 1.0 || ++state[2] == windows) {
                        stopping[0] = true; // the 32 in flight drain; the thread allocates nothing more for them
                        result.complete(perIo);
                    }
                }
                if (!stopping[0]) {
                    int slot = (int) arg;
                    HostRequest r = q.allocate();
                    r.sqe().opcode((n & 1) == 0 ? Opcode.WRITE : Opcode.READ).nsid(1).rw().slba((long) slot * blocks)
                            .blockCount(blocks);
                    r.toController((n & 1) == 0).segment(bufs[slot], 0, ioBytes);
                    q.submit(r, cb[0], arg);
                }
            };
            for (int i = 0; i < 32; i++) {
                HostRequest r = q.allocate();
                r.sqe().opcode(Opcode.READ).nsid(1).rw().slba((long) i * blocks).blockCount(blocks);
                r.segment(bufs[i], 0, ioBytes);
                q.submit(r, cb[0], i);
            }
        });
        double perIo = result.get(120, java.util.concurrent.TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> q.inFlight() == 0);
        close(c, q);
        detach(c);
        return perIo;
    }
}
