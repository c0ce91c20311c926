package io.keel.nvmf.tcp;

import static io.keel.nvmf.tcp.TestHost.bytes;
import static io.keel.nvmf.tcp.TestHost.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import io.keel.nvme.spec.SglDescriptor;
import io.keel.nvme.spec.ConnectData;
import io.keel.nvme.spec.Status;
import io.keel.nvme.tcp.DataPdu;
import io.keel.nvme.tcp.Fes;
import io.keel.nvme.tcp.IcReqPdu;
import io.keel.nvme.tcp.PduType;
import io.keel.nvmf.tcp.TestHost.Pdu;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Scenarios of one target-side NVMe/TCP connection against an in-memory host. */
class TcpQpairConnectionTest {
    private static final int READ = 0x02;
    private static final int WRITE = 0x01;

    private final Arena arena = Arena.ofConfined();
    private final TestHost host = new TestHost(arena);
    private final QueueMemory memory = new QueueMemory(1 << 30);
    /** Commands the handler received, in order, and a copy of their data at that moment. */
    private final List<TcpRequest> commands = new ArrayList<>();
    /** What each command looked like when the handler got it (requests are reused after completion). */
    record Seen(int cid, DataDirection direction, long length, boolean inCapsule) {
    }

    private final List<Seen> seen = new ArrayList<>();
    private final List<byte[]> commandData = new ArrayList<>();
    /** Whether the handler completes at once (reads: fills the buffer with a pattern seeded by the CID). */
    private boolean completeAtOnce = true;
    private final List<String> ended = new ArrayList<>();
    private final Pool pool = new Pool(4, 1 << 20);

    /** A bounded buffer pool. */
    final class Pool implements BufferProvider {
        final MemorySegment[] free;
        int top;
        final long size;

        Pool(int count, long size) {
            this.size = size;
            this.free = new MemorySegment[count];
            for (int i = 0; i < count; i++) {
                free[i] = arena.allocate(size, 64);
            }
            top = count;
        }

        @Override
        public MemorySegment acquire(long length) {
            return length > size || top == 0 ? null : free[--top];
        }

        @Override
        public void release(MemorySegment buffer) {
            free[top++] = buffer;
        }
    }

    private TcpQpairConnection start(TcpConnectionConfig config) {
        host.conn = new TcpQpairConnection(config, host, this::handle, pool,
                (c, state, fes, reason) -> ended.add(state + " " + fes + " " + reason), table(config));
        return host.conn;
    }

    private RequestTable table(TcpConnectionConfig config) {
        return RequestTable.take(memory, config.queueDepth(), config.inCapsuleDataSize());
    }

    private void handle(TcpRequest r) {
        commands.add(r);
        seen.add(new Seen(r.cid(), r.direction(), r.length(), r.inCapsule()));
        commandData.add(r.data() == null ? null : bytes(r.data(), r.length()));
        if (completeAtOnce) {
            finish(r);
        }
    }

    private static void finish(TcpRequest r) {
        if (r.direction() == DataDirection.CONTROLLER_TO_HOST) {
            MemorySegment.copy(MemorySegment.ofArray(pattern((int) r.length(), r.cid())), 0, r.data(), 0, r.length());
        }
        r.complete(Status.field(Status.SUCCESS, false), 0x1234_0000 | r.cid());
    }

    @AfterEach
    void close() {
        memory.close();
        arena.close();
    }

    private static TcpConnectionConfig config() {
        return TcpConnectionConfig.defaults().withQueueDepth(8).withC2hSuccess(false);
    }

    @Test
    void icExchangeWithoutDigests() {
        TcpQpairConnection c = start(config().withCpda(1).withMaxH2CData(8192));
        assertThat(c.state()).isEqualTo(TcpQpairConnection.State.AWAITING_IC_REQ);
        Pdu ic = host.connect(false, false, 0);
        assertThat(ic.icPfv()).isZero();
        assertThat(ic.icCpda()).isEqualTo(1);
        assertThat(ic.icDgst()).isZero();
        assertThat(ic.icMaxh2c()).isEqualTo(8192);
        assertThat(c.state()).isEqualTo(TcpQpairConnection.State.ESTABLISHED);
        assertThat(c.headerDigest()).isFalse();
        assertThat(c.dataDigest()).isFalse();
    }

    @Test
    void icExchangeWithDigestsAndAlignmentThenARead() {
        TcpQpairConnection c = start(config().withCpda(3));
        Pdu ic = host.connect(true, true, 7);
        assertThat(ic.icDgst()).isEqualTo(IcReqPdu.DGST_HDGST_ENABLE | IcReqPdu.DGST_DDGST_ENABLE);
        assertThat(c.headerDigest()).isTrue();
        assertThat(c.dataDigest()).isTrue();
        // the host's reader checks digests and HPDA 7 (32-byte) data alignment of what comes back
        host.feed(host.read(0, 5, 1000));
        List<Pdu> got = host.received();
        assertThat(got).extracting(Pdu::type).containsExactly(PduType.C2H_DATA, PduType.CAPSULE_RESP);
        assertThat(got.get(0).dataDigestError()).isFalse();
        assertThat(got.get(0).data()).isEqualTo(pattern(1000, 5));
    }

    @Test
    void onlyTheDigestsTheConfigAllowsAreAccepted() {
        TcpQpairConnection c = start(config().withDigests(true, false));
        Pdu ic = host.connect(true, true, 0);
        assertThat(ic.icDgst()).isEqualTo(IcReqPdu.DGST_HDGST_ENABLE);
        assertThat(c.headerDigest()).isTrue();
        assertThat(c.dataDigest()).isFalse();
    }

    @Test
    void readReturnsC2HDataSplitAtTheMaximumThenCapsuleResp() {
        start(config().withMaxC2HData(4096));
        host.connect(false, false, 0);
        host.feed(host.read(0, 42, 10000));
        List<Pdu> got = host.received();
        assertThat(got).extracting(Pdu::type).containsExactly(PduType.C2H_DATA, PduType.C2H_DATA, PduType.C2H_DATA,
                PduType.CAPSULE_RESP);
        assertThat(got.subList(0, 3)).extracting(Pdu::datao).containsExactly(0L, 4096L, 8192L);
        assertThat(got.subList(0, 3)).extracting(Pdu::datal).containsExactly(4096L, 4096L, 1808L);
        assertThat(got.subList(0, 3)).extracting(Pdu::last).containsExactly(false, false, true);
        assertThat(got.subList(0, 3)).extracting(Pdu::success).containsOnly(false);
        assertThat(got.subList(0, 3)).extracting(Pdu::cccid).containsOnly(42);
        byte[] all = new byte[10000];
        for (int i = 0; i < 3; i++) {
            System.arraycopy(got.get(i).data(), 0, all, (int) got.get(i).datao(), (int) got.get(i).datal());
        }
        assertThat(all).isEqualTo(pattern(10000, 42));
        Pdu resp = got.get(3);
        assertThat(resp.cid()).isEqualTo(42);
        assertThat(resp.status()).isZero();
        assertThat(resp.dw0()).isEqualTo(0x1234_0000 | 42);
        assertThat(resp.sqhd()).isEqualTo(1);
        assertThat(seen).containsExactly(new Seen(42, DataDirection.CONTROLLER_TO_HOST, 10000, false));
        assertThat(host.conn.requestsInUse()).isZero();
        assertThat(pool.top).isEqualTo(4);
    }

    @Test
    void readWithC2HSuccessSendsOnlyC2HDataWithSuccessOnTheLast() {
        start(config().withC2hSuccess(true).withMaxC2HData(4096));
        host.connect(false, false, 0);
        host.feed(host.read(0, 7, 8192));
        List<Pdu> got = host.received();
        assertThat(got).extracting(Pdu::type).containsExactly(PduType.C2H_DATA, PduType.C2H_DATA);
        assertThat(got).extracting(Pdu::success).containsExactly(false, true);
        assertThat(got).extracting(Pdu::last).containsExactly(false, true);
    }

    @Test
    void theTableGoesBackToItsPoolOnlyWhenTheLastExecutingCommandIsDone() {
        completeAtOnce = false;
        start(config());
        host.connect(false, false, 0);
        host.feed(host.read(0, 1, 512));
        long held = memory.inUse();
        assertThat(held).isPositive();
        host.conn.close(); // the handler (the bdev layer) still holds the read and its request
        assertThat(host.conn.holdsTable()).isTrue();
        assertThat(memory.inUse()).isEqualTo(held);
        commands.get(0).complete(Status.field(Status.SUCCESS, false), 0);
        assertThat(host.conn.holdsTable()).isFalse();
        assertThat(memory.inUse()).isZero();
        assertThat(memory.kept()).isEqualTo(held); // kept for the next connection of this shape
        RequestTable again = RequestTable.take(memory, config().queueDepth(), config().inCapsuleDataSize());
        assertThat(memory.allocations()).isEqualTo(1);
        again.release();
    }

    @Test
    void aBiggerTableIsInstalledWhileIdleAndTheFirstGoesBack() {
        host.conn = new TcpQpairConnection(config(), host, this::handle, pool, (c, st, f, r) -> ended.add("x"),
                RequestTable.take(memory, 1, ConnectData.SIZE));
        host.connect(false, false, 0);
        long boot = memory.inUse();
        host.conn.install(RequestTable.take(memory, 8, 8192));
        assertThat(memory.inUse()).isEqualTo(RequestTable.bytes(8, 8192));
        assertThat(memory.kept()).isEqualTo(boot);
        long p = 0;
        for (int cid = 1; cid <= 8; cid++) { // eight commands at once fit the new table
            p += host.read(p, cid, 512);
        }
        host.feed(p);
        assertThat(seen).hasSize(8);
        assertThat(ended).isEmpty();
    }

    @Test
    void failedReadSendsCapsuleRespEvenWithC2HSuccess() {
        completeAtOnce = false;
        start(config().withC2hSuccess(true));
        host.connect(false, false, 0);
        host.feed(host.read(0, 9, 512));
        assertThat(host.received()).isEmpty();
        commands.get(0).complete(Status.field(Status.LBA_OUT_OF_RANGE, true), 0);
        List<Pdu> got = host.received();
        assertThat(got).extracting(Pdu::type).containsExactly(PduType.CAPSULE_RESP);
        assertThat(got.get(0).statusCode()).isEqualTo(Status.LBA_OUT_OF_RANGE);
        assertThat(got.get(0).dnr()).isTrue();
    }

    @Test
    void smallWriteWithInCapsuleData() {
        start(config());
        host.connect(true, true, 0);
        byte[] data = pattern(512, 3);
        host.feed(host.capsule(0, WRITE, 11, SglDescriptor.ID_IN_CAPSULE, 512, data));
        List<Pdu> got = host.received();
        assertThat(got).extracting(Pdu::type).containsExactly(PduType.CAPSULE_RESP);
        assertThat(got.get(0).cid()).isEqualTo(11);
        assertThat(got.get(0).status()).isZero();
        assertThat(seen).containsExactly(new Seen(11, DataDirection.HOST_TO_CONTROLLER, 512, true));
        assertThat(commandData.get(0)).isEqualTo(data);
        assertThat(pool.top).as("in-capsule data needs no pool buffer").isEqualTo(4);
    }

    /** The host answers each R2T with H2CData PDUs of at most {@code chunk} bytes. */
    private List<Pdu> writeViaR2T(int cid, byte[] data, int chunk) {
        host.feed(host.capsule(0, WRITE, cid, SglDescriptor.ID_TRANSPORT, data.length, null));
        List<Pdu> r2ts = new ArrayList<>();
        while (true) {
            List<Pdu> got = host.received();
            if (got.size() != 1 || got.get(0).type() != PduType.R2T) {
                r2ts.addAll(got);
                return r2ts;
            }
            Pdu r2t = got.get(0);
            r2ts.add(r2t);
            long p = 0;
            MemorySegment src = MemorySegment.ofArray(data);
            for (long o = r2t.r2to(); o < r2t.r2to() + r2t.r2tl(); o += chunk) {
                int n = (int) Math.min(chunk, r2t.r2to() + r2t.r2tl() - o);
                boolean last = o + n == r2t.r2to() + r2t.r2tl();
                p += host.enc.h2cData(host.tx, p, r2t.cccid(), r2t.ttag(), o, src, o, n, last);
            }
            host.feed(p);
        }
    }

    @Test
    void largeWriteFetchedWithR2TsInSeveralH2CDataPdus() {
        start(config().withMaxH2CData(4096).withMaxR2TLength(8192));
        host.connect(true, true, 0);
        byte[] data = pattern(20000, 9);
        List<Pdu> got = writeViaR2T(77, data, 4096);
        assertThat(got).extracting(Pdu::type).containsExactly(PduType.R2T, PduType.R2T, PduType.R2T,
                PduType.CAPSULE_RESP);
        assertThat(got.subList(0, 3)).extracting(Pdu::r2to).containsExactly(0L, 8192L, 16384L);
        assertThat(got.subList(0, 3)).extracting(Pdu::r2tl).containsExactly(8192L, 8192L, 3616L);
        assertThat(got.subList(0, 3)).extracting(Pdu::cccid).containsOnly(77);
        assertThat(got.get(3).cid()).isEqualTo(77);
        assertThat(got.get(3).status()).isZero();
        assertThat(commandData).singleElement().isEqualTo(data);
        assertThat(pool.top).isEqualTo(4);
    }

    @Test
    void handlerIsCalledOnlyWhenAllWriteDataArrived() {
        start(config().withMaxH2CData(4096).withMaxR2TLength(4096));
        host.connect(false, false, 0);
        host.feed(host.capsule(0, WRITE, 1, SglDescriptor.ID_TRANSPORT, 8192, null));
        Pdu r2t = host.received().get(0);
        assertThat(commands).isEmpty();
        int n = host.enc.h2cData(host.tx, 0, 1, r2t.ttag(), 0, MemorySegment.ofArray(pattern(4096, 1)), 0, 4096, true);
        host.feed(n);
        assertThat(commands).isEmpty();
        assertThat(host.received()).extracting(Pdu::r2to).containsExactly(4096L);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 7, 13, 100, 4097})
    void everySplitOfTheInputGivesTheSameExchange(int split) {
        host.split = split;
        start(config().withMaxH2CData(4096).withMaxR2TLength(8192).withCpda(2));
        host.connect(true, true, 3);
        byte[] small = pattern(300, 1);
        host.feed(host.capsule(0, WRITE, 1, SglDescriptor.ID_IN_CAPSULE, 300, small));
        assertThat(host.received()).extracting(Pdu::type).containsExactly(PduType.CAPSULE_RESP);
        byte[] big = pattern(12000, 2);
        assertThat(writeViaR2T(2, big, 3000)).extracting(Pdu::type).containsExactly(PduType.R2T, PduType.R2T,
                PduType.CAPSULE_RESP);
        host.feed(host.read(0, 3, 5000));
        List<Pdu> read = host.received();
        assertThat(read).extracting(Pdu::type).containsExactly(PduType.C2H_DATA, PduType.CAPSULE_RESP);
        assertThat(read.get(0).data()).isEqualTo(pattern(5000, 3));
        assertThat(commandData).hasSize(3);
        assertThat(commandData.get(0)).isEqualTo(small);
        assertThat(commandData.get(1)).isEqualTo(big);
    }

    @Test
    void randomSplitsOfManyPipelinedCommands() {
        start(config().withC2hSuccess(true));
        host.connect(true, true, 0);
        Random random = new Random(12345);
        long p = 0;
        for (int cid = 0; cid < 6; cid++) {
            p += cid % 2 == 0 ? host.read(p, cid, 100 + cid * 1000)
                    : host.capsule(p, WRITE, cid, SglDescriptor.ID_IN_CAPSULE, 64 * cid, pattern(64 * cid, cid));
        }
        for (long at = 0; at < p;) {
            long n = Math.min(p - at, 1 + random.nextInt(200));
            host.conn.onBytes(host.tx, at, n);
            at += n;
        }
        List<Pdu> got = host.received();
        assertThat(got).extracting(Pdu::type).containsExactly(PduType.C2H_DATA, PduType.CAPSULE_RESP,
                PduType.C2H_DATA, PduType.CAPSULE_RESP, PduType.C2H_DATA, PduType.CAPSULE_RESP);
        assertThat(got.get(4).data()).isEqualTo(pattern(4100, 4));
        assertThat(got.get(3).sqhd()).isEqualTo(4);
        assertThat(host.conn.commands()).isEqualTo(6);
    }

    // ---- errors

    private Pdu onlyTermReq() {
        if (!host.rd.initialized()) {
            host.rd.negotiated(false, false, 0); // a TermReq may answer the ICReq itself
        }
        List<Pdu> got = host.received();
        assertThat(got).extracting(Pdu::type).containsExactly(PduType.C2H_TERM_REQ);
        return got.get(0);
    }

    @Test
    void commandBeforeICReqIsASequenceError() {
        TcpQpairConnection c = start(config());
        int n = host.read(0, 1, 512);
        host.feed(n);
        Pdu t = onlyTermReq();
        assertThat(t.fes()).isEqualTo(Fes.PDU_SEQUENCE_ERROR);
        assertThat(t.data()).isEqualTo(bytes(host.tx, 8));
        assertThat(c.state()).isEqualTo(TcpQpairConnection.State.TERMINATED);
        assertThat(ended).singleElement().asString().startsWith("TERMINATED 2 ");
        host.feed(n); // ignored from now on
        assertThat(host.received()).isEmpty();
        assertThat(ended).hasSize(1);
    }

    @Test
    void icReqWithAnUnsupportedPfvIsAnInvalidHeaderField() {
        TcpQpairConnection c = start(config());
        int n = host.enc.icReq(host.tx, 0, 1, 0, false, false, 0);
        host.feed(n);
        Pdu t = onlyTermReq();
        assertThat(t.fes()).isEqualTo(Fes.INVALID_HEADER_FIELD);
        assertThat(t.fei()).isEqualTo(IcReqPdu.PFV_OFFSET);
        assertThat(t.data()).isEqualTo(bytes(host.tx, 128));
        assertThat(c.state()).isEqualTo(TcpQpairConnection.State.TERMINATED);
    }

    @Test
    void icReqWithHpdaAbove31IsAnInvalidHeaderField() {
        start(config());
        int n = host.enc.icReq(host.tx, 0, 0, 0, false, false, 0);
        host.tx.set(ValueLayout.JAVA_BYTE, IcReqPdu.HPDA_OFFSET, (byte) 32);
        host.feed(n);
        Pdu t = onlyTermReq();
        assertThat(t.fes()).isEqualTo(Fes.INVALID_HEADER_FIELD);
        assertThat(t.fei()).isEqualTo(IcReqPdu.HPDA_OFFSET);
    }

    @Test
    void headerDigestErrorTerminates() {
        TcpQpairConnection c = start(config());
        host.connect(true, false, 0);
        int n = host.read(0, 1, 512);
        host.tx.set(ValueLayout.JAVA_BYTE, 20, (byte) (host.tx.get(ValueLayout.JAVA_BYTE, 20) ^ 1));
        host.feed(n);
        Pdu t = onlyTermReq();
        assertThat(t.fes()).isEqualTo(Fes.HEADER_DIGEST_ERROR);
        assertThat(t.data()).isEqualTo(bytes(host.tx, 76));
        assertThat(c.state()).isEqualTo(TcpQpairConnection.State.TERMINATED);
        assertThat(commands).isEmpty();
    }

    @Test
    void h2cDataOutsideTheR2TIsDataTransferOutOfRange() {
        TcpQpairConnection c = start(config().withMaxH2CData(4096).withMaxR2TLength(4096));
        host.connect(false, false, 0);
        host.feed(host.capsule(0, WRITE, 1, SglDescriptor.ID_TRANSPORT, 8192, null));
        Pdu r2t = host.received().get(0);
        int n = host.enc.h2cData(host.tx, 0, 1, r2t.ttag(), 4096, MemorySegment.ofArray(pattern(4096, 1)), 0, 4096,
                true);
        host.feed(n);
        Pdu t = onlyTermReq();
        assertThat(t.fes()).isEqualTo(Fes.DATA_TRANSFER_OUT_OF_RANGE);
        assertThat(t.fei()).isEqualTo(DataPdu.DATAO_OFFSET);
        assertThat(t.data()).isEqualTo(bytes(host.tx, 24));
        assertThat(c.state()).isEqualTo(TcpQpairConnection.State.TERMINATED);
        assertThat(c.requestsInUse()).isZero();
        assertThat(pool.top).as("the R2T's buffer is back").isEqualTo(4);
    }

    @Test
    void h2cDataLongerThanTheR2TIsDataTransferOutOfRange() {
        start(config().withMaxH2CData(8192).withMaxR2TLength(4096));
        host.connect(false, false, 0);
        host.feed(host.capsule(0, WRITE, 1, SglDescriptor.ID_TRANSPORT, 8192, null));
        Pdu r2t = host.received().get(0);
        host.feed(host.enc.h2cData(host.tx, 0, 1, r2t.ttag(), 0, MemorySegment.ofArray(pattern(8192, 1)), 0, 8192,
                true));
        assertThat(onlyTermReq().fes()).isEqualTo(Fes.DATA_TRANSFER_OUT_OF_RANGE);
    }

    @Test
    void h2cDataWithAnUnknownTtagIsAnInvalidHeaderField() {
        start(config());
        host.connect(false, false, 0);
        host.feed(host.enc.h2cData(host.tx, 0, 1, 3, 0, MemorySegment.ofArray(pattern(16, 1)), 0, 16, true));
        Pdu t = onlyTermReq();
        assertThat(t.fes()).isEqualTo(Fes.INVALID_HEADER_FIELD);
        assertThat(t.fei()).isEqualTo(DataPdu.TTAG_OFFSET);
    }

    @Test
    void h2cDataAboveMaxH2CDataIsALimitError() {
        start(config().withMaxH2CData(4096).withMaxR2TLength(8192));
        host.connect(false, false, 0);
        host.feed(host.capsule(0, WRITE, 1, SglDescriptor.ID_TRANSPORT, 8192, null));
        Pdu r2t = host.received().get(0);
        host.feed(host.enc.h2cData(host.tx, 0, 1, r2t.ttag(), 0, MemorySegment.ofArray(pattern(8192, 1)), 0, 8192,
                true));
        assertThat(onlyTermReq().fes()).isEqualTo(Fes.DATA_TRANSFER_LIMIT_EXCEEDED);
    }

    @Test
    void moreCommandsThanTheQueueDepthTerminate() {
        completeAtOnce = false;
        start(config().withQueueDepth(2));
        host.connect(false, false, 0);
        long p = 0;
        for (int cid = 0; cid < 3; cid++) {
            p += host.capsule(p, 0x00, cid, SglDescriptor.ID_TRANSPORT, 0, null);
        }
        host.feed(p);
        assertThat(onlyTermReq().fes()).isEqualTo(Fes.PDU_SEQUENCE_ERROR);
        assertThat(commands).hasSize(2);
        commands.get(0).complete(0, 0); // after the end: only back to the pool
        assertThat(host.received()).isEmpty();
        assertThat(host.conn.requestsInUse()).isEqualTo(1);
    }

    @Test
    void dataDigestErrorOnInCapsuleDataFailsTheCommandWithoutTheHandler() {
        TcpQpairConnection c = start(config());
        host.connect(true, true, 0);
        int n = host.capsule(0, WRITE, 4, SglDescriptor.ID_IN_CAPSULE, 256, pattern(256, 4));
        host.tx.set(ValueLayout.JAVA_BYTE, n - 10, (byte) (host.tx.get(ValueLayout.JAVA_BYTE, n - 10) ^ 0x40));
        host.feed(n);
        List<Pdu> got = host.received();
        assertThat(got).extracting(Pdu::type).containsExactly(PduType.CAPSULE_RESP);
        assertThat(got.get(0).cid()).isEqualTo(4);
        assertThat(got.get(0).statusCode()).isEqualTo(Status.TRANSIENT_TRANSPORT_ERROR);
        assertThat(got.get(0).dnr()).isFalse();
        assertThat(commands).isEmpty();
        assertThat(c.state()).isEqualTo(TcpQpairConnection.State.ESTABLISHED);
        host.feed(host.capsule(0, WRITE, 5, SglDescriptor.ID_IN_CAPSULE, 256, pattern(256, 5)));
        assertThat(host.received()).extracting(Pdu::statusCode).containsExactly(Status.SUCCESS);
        assertThat(commands).hasSize(1);
    }

    @Test
    void dataDigestErrorOnH2CDataFailsTheCommandOnceItsR2TIsSatisfied() {
        TcpQpairConnection c = start(config().withMaxH2CData(4096).withMaxR2TLength(8192));
        host.connect(false, true, 0);
        host.feed(host.capsule(0, WRITE, 6, SglDescriptor.ID_TRANSPORT, 16384, null));
        Pdu r2t = host.received().get(0);
        MemorySegment src = MemorySegment.ofArray(pattern(8192, 6));
        int first = host.enc.h2cData(host.tx, 0, 6, r2t.ttag(), 0, src, 0, 4096, false);
        host.tx.set(ValueLayout.JAVA_BYTE, 100, (byte) (host.tx.get(ValueLayout.JAVA_BYTE, 100) ^ 1));
        host.feed(first);
        assertThat(host.received()).isEmpty();
        host.feed(host.enc.h2cData(host.tx, 0, 6, r2t.ttag(), 4096, src, 4096, 4096, true));
        List<Pdu> got = host.received();
        assertThat(got).extracting(Pdu::type).containsExactly(PduType.CAPSULE_RESP);
        assertThat(got.get(0).statusCode()).isEqualTo(Status.TRANSIENT_TRANSPORT_ERROR);
        assertThat(commands).isEmpty();
        assertThat(c.requestsInUse()).isZero();
        assertThat(pool.top).isEqualTo(4);
    }

    @Test
    void invalidSglsFailTheCommand() {
        start(config().withInCapsuleDataSize(1024));
        host.connect(false, false, 0);
        host.feed(host.capsule(0, WRITE, 1, SglDescriptor.ID_IN_CAPSULE, 2048, pattern(2048, 1)));
        host.feed(host.capsule(0, WRITE, 2, SglDescriptor.ID_IN_CAPSULE, 100, pattern(50, 1)));
        host.feed(host.capsule(0, READ, 3, SglDescriptor.ID_IN_CAPSULE, 64, null));
        host.feed(host.capsule(0, READ, 4, 0x40, 64, null));
        host.feed(host.capsule(0, WRITE, 5, SglDescriptor.ID_TRANSPORT, 1 << 30, null));
        List<Pdu> got = host.received();
        assertThat(got).extracting(Pdu::cid).containsExactly(1, 2, 3, 4, 5);
        assertThat(got).extracting(Pdu::statusCode).containsExactly(Status.DATA_SGL_LENGTH_INVALID,
                Status.DATA_SGL_LENGTH_INVALID, Status.SGL_DESCRIPTOR_TYPE_INVALID, Status.SGL_DESCRIPTOR_TYPE_INVALID,
                Status.DATA_SGL_LENGTH_INVALID);
        assertThat(got).extracting(Pdu::dnr).containsOnly(true);
        assertThat(commands).isEmpty();
    }

    @Test
    void h2cTermReqFromTheHostCloses() {
        TcpQpairConnection c = start(config());
        host.connect(false, false, 0);
        int n = host.enc.termReq(host.tx, 0, PduType.H2C_TERM_REQ, Fes.HEADER_DIGEST_ERROR, 0, host.out, 0, 24);
        host.feed(n);
        assertThat(host.received()).isEmpty();
        assertThat(c.state()).isEqualTo(TcpQpairConnection.State.CLOSED);
        assertThat(ended).containsExactly("CLOSED 3 host sent H2CTermReq");
        c.close();
        assertThat(ended).hasSize(1);
    }

    @Test
    void requestsWaitForBuffersAndAreReDrivenWhenOneIsFreed() {
        completeAtOnce = false;
        Pool small = new Pool(1, 8192);
        host.conn = new TcpQpairConnection(config(), host, this::handle, small, (c, s, f, r) -> ended.add("x"),
                table(config()));
        host.connect(false, false, 0);
        long p = host.read(0, 1, 4096);
        p += host.read(p, 2, 4096);
        p += host.capsule(p, WRITE, 3, SglDescriptor.ID_TRANSPORT, 4096, null);
        host.feed(p);
        assertThat(seen).extracting(Seen::cid).containsExactly(1);
        assertThat(host.conn.pendingBufferCount()).isEqualTo(2);
        finish(commands.get(0));
        assertThat(seen).extracting(Seen::cid).containsExactly(1, 2);
        assertThat(host.conn.pendingBufferCount()).isEqualTo(1);
        finish(commands.get(1));
        List<Pdu> got = host.received();
        assertThat(got).extracting(Pdu::type).containsExactly(PduType.C2H_DATA, PduType.CAPSULE_RESP,
                PduType.C2H_DATA, PduType.CAPSULE_RESP, PduType.R2T);
        assertThat(got.get(4).cccid()).isEqualTo(3);
        assertThat(host.conn.pendingBufferCount()).isZero();
    }
}
