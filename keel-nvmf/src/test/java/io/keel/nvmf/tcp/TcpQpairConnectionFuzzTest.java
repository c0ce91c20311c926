package io.keel.nvmf.tcp;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.keel.nvme.spec.Cqe;
import io.keel.nvme.spec.SglDescriptor;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;
import io.keel.nvme.tcp.Fes;
import io.keel.nvme.tcp.PduEncoder;
import io.keel.nvme.tcp.PduReader;
import io.keel.nvme.tcp.PduType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Coverage-guided fuzzing of the target side of an NVMe/TCP connection. The first input byte chooses what the
 * host's valid ICReq asks for (digests, HPDA) and the target's CPDA and C2H success; the connection is fed that
 * ICReq, then:
 * <ul>
 * <li>{@link #stream}: the rest of the input, as whatever a host might send. Nothing throws; everything the target
 * sends decodes cleanly (digests, alignment, a C2HTermReq only last and only when it terminated); the commands
 * the handler gets are consistent; the connection ends once; once the held commands complete and it closes, every
 * request and data buffer is back; and all of it, byte for byte, is the same however the input is cut.</li>
 * <li>{@link #capsule}: SGL and capsule decoding: bytes 1..64 are an SQE sent in one well-framed CapsuleCmd with the
 * rest as in-capsule data. The command reaches the handler as its SGL says, or gets an R2T for its data, or is
 * failed with an SGL status (DNR set), or a PDU above the size limit ends the connection; nothing else.</li>
 * </ul>
 * The handler completes even CIDs at once and holds odd ones until the input is all fed.
 */
class TcpQpairConnectionFuzzTest {
    private static final int QUEUE_DEPTH = 4;
    private static final int MAX_IO = 8192;
    private static final int IN_CAPSULE = 4096;
    private static final int MAX_H2C = 4096;
    private static final int MAX_R2T = 1024;
    private static final int BUFFERS = 2;
    private static final Set<Integer> SGL_ERRORS = Set.of(Status.INVALID_FIELD, Status.DATA_SGL_LENGTH_INVALID,
            Status.SGL_DESCRIPTOR_TYPE_INVALID, Status.SGL_OFFSET_INVALID);
    /** Where every run writes what the target sends; runs are one at a time and keep only what was written. */
    private static final MemorySegment OUT = Arena.global().allocate(4 << 20, 8);

    /** The one place the connection is built. */
    private static TcpQpairConnection connection(TcpConnectionConfig config, Run run) {
        return new TcpQpairConnection(config, run, run, run, run,
                RequestTable.take(run.memory, config.queueDepth(), config.inCapsuleDataSize()));
    }

    private static TcpConnectionConfig config(int options) {
        return new TcpConnectionConfig(QUEUE_DEPTH, options >>> 5 & 1, true, true, MAX_H2C, MAX_R2T, IN_CAPSULE, MAX_IO,
                2048, (options & 0x40) != 0);
    }

    @FuzzTest
    void stream(byte[] input) {
        if (input.length == 0) {
            return;
        }
        byte[] host = Arrays.copyOfRange(input, 1, input.length);
        int[] everyByte = new int[Math.max(0, host.length - 1)];
        Arrays.setAll(everyByte, i -> i + 1);
        int options = input[0] & 0xFF;
        String whole = Run.of(options, host).transcript;
        same(whole, Run.of(options, host, everyByte).transcript, "byte by byte");
        int h = Arrays.hashCode(host);
        int[] cuts = host.length < 2 ? new int[0]
                : Arrays.stream(new int[] {h & 0xFFFF, h >>> 16, h * 31 >>> 8}).map(c -> c % host.length).sorted().toArray();
        same(whole, Run.of(options, host, cuts).transcript, "cut at " + Arrays.toString(cuts));
    }

    @FuzzTest
    void capsule(byte[] input) {
        if (input.length < 1 + Sqe.SIZE) {
            return;
        }
        MemorySegment sqeBytes = MemorySegment.ofArray(Arrays.copyOfRange(input, 1, 1 + Sqe.SIZE));
        Sqe sqe = new Sqe().wrap(sqeBytes, 0);
        byte[] icd = Arrays.copyOfRange(input, 1 + Sqe.SIZE, Math.min(input.length, 1 + Sqe.SIZE + IN_CAPSULE + 256));
        Run run = new Run(input[0] & 0xFF);
        MemorySegment wire = run.arena.allocate(PduType.CAPSULE_CMD_HLEN + 4 + 128 + icd.length + 4);
        int n = run.encoder.capsuleCmd(wire, 0, sqeBytes, 0, icd.length == 0 ? null : MemorySegment.ofArray(icd), 0,
                icd.length);
        run.conn.onBytes(wire, 0, n);

        List<Pdu> sent = run.decodeSent();
        SglDescriptor sgl = sqe.sgl();
        if (!run.handled.isEmpty()) {
            check(run.handled.size() == 1 && sent.stream().allMatch(p -> p.type != PduType.R2T), "one command, no R2T");
            Seen r = run.handled.getFirst();
            check(r.cid == sqe.cid() && r.length == (r.direction == DataDirection.NONE ? 0 : sgl.length()),
                    "CID or length differ from the SQE: " + r);
            if (r.inCapsule) {
                check(sgl.identifier() == SglDescriptor.ID_IN_CAPSULE && sgl.address() == 0 && Arrays.equals(icd, r.data),
                        "in-capsule data");
            } else {
                check(icd.length == 0 && (r.length == 0 || sgl.identifier() == SglDescriptor.ID_TRANSPORT),
                        "transport data");
            }
        } else if (run.conn.state() == TcpQpairConnection.State.TERMINATED) {
            check(sent.getLast().fes == Fes.DATA_TRANSFER_LIMIT_EXCEEDED, "terminated by a well-framed capsule");
        } else {
            check(sent.size() == 1, "expected one answer, got " + sent);
            Pdu p = sent.getFirst();
            if (p.type == PduType.R2T) {
                check(p.cid == sqe.cid() && p.r2to == 0 && p.r2tl == Math.min(sgl.length(), MAX_R2T) && icd.length == 0
                        && sgl.identifier() == SglDescriptor.ID_TRANSPORT, "R2T " + p);
            } else {
                check(p.type == PduType.CAPSULE_RESP && p.cid == sqe.cid() && (p.status & 0x8000) != 0
                        && SGL_ERRORS.contains(Status.codeOf(p.status)), "not an SGL error " + p);
            }
        }
        run.end();
    }

    private static void same(String expected, String actual, String how) {
        check(expected.equals(actual), "the target acted differently " + how + ":\n  whole: " + expected + "\n  " + how
                + ": " + actual);
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    /** A command as the handler got it (requests are reused once completed); {@code data} for writes. */
    record Seen(int cid, DataDirection direction, long length, boolean inCapsule, byte[] data) {
        @Override
        public String toString() {
            return cid + " " + direction + " " + length + (inCapsule ? " in capsule " : " ") + Arrays.hashCode(data);
        }
    }

    /** One PDU the target sent, as far as these checks need it. */
    record Pdu(int type, int cid, int status, long r2to, long r2tl, int fes) {
    }

    /** One connection under test, and the host, handler, buffer pool and owner around it. */
    private static final class Run implements PduSink, BufferProvider, CommandHandler, ConnectionListener {
        final Arena arena = Arena.ofConfined();
        final QueueMemory memory = new QueueMemory(1L << 30);
        final TcpQpairConnection conn;
        final PduEncoder encoder = new PduEncoder();
        final List<Seen> handled = new ArrayList<>();
        private final PduReader reader = new PduReader(PduReader.Role.HOST, 1 << 20);
        private final int hpda;
        private final MemorySegment[] buffers = new MemorySegment[BUFFERS];
        private final boolean[] lent = new boolean[BUFFERS];
        private final List<TcpRequest> held = new ArrayList<>();
        private final List<String> ended = new ArrayList<>();
        private long outPos;
        private long decodedPos;
        String transcript;

        /** A connection after the ICReq {@code options} asks for, and its ICResp checked. */
        Run(int options) {
            for (int i = 0; i < BUFFERS; i++) {
                buffers[i] = arena.allocate(MAX_IO, 64);
            }
            hpda = options >>> 2 & 7;
            conn = connection(config(options), this);
            boolean hdgst = (options & 1) != 0;
            boolean ddgst = (options & 2) != 0;
            MemorySegment ic = arena.allocate(PduType.IC_HLEN);
            conn.onBytes(ic, 0, encoder.icReq(ic, 0, 0, hpda, hdgst, ddgst, 0));
            List<Pdu> sent = decodeSent();
            check(sent.size() == 1 && sent.getFirst().type == PduType.IC_RESP
                    && conn.state() == TcpQpairConnection.State.ESTABLISHED, "no ICResp: " + sent);
            encoder.negotiated(conn.headerDigest(), conn.dataDigest(), config(options).cpda());
        }

        /** Feeds {@code host} cut before each of {@code cuts}, completes what the handler held, closes, checks. */
        static Run of(int options, byte[] host, int... cuts) {
            Run run = new Run(options);
            int from = 0;
            for (int i = 0; i <= cuts.length; i++) {
                int to = i < cuts.length ? cuts[i] : host.length;
                MemorySegment piece = run.arena.allocate(Math.max(1, to - from));
                MemorySegment.copy(host, from, piece, ValueLayout.JAVA_BYTE, 0, to - from);
                run.conn.onBytes(piece, 0, to - from);
                from = to;
            }
            run.decodeSent();
            run.end();
            return run;
        }

        /** Completes the held commands, closes, checks that everything came back, and writes the transcript. */
        void end() {
            while (!held.isEmpty()) {
                finish(held.removeFirst()); // may hand a waiting command to the handler, which may hold it
            }
            conn.close();
            List<Pdu> last = decodeSent();
            check(last.isEmpty() || conn.state() == TcpQpairConnection.State.CLOSED
                    && last.stream().noneMatch(p -> p.type == PduType.C2H_TERM_REQ), "sent after the end: " + last);
            check(ended.size() == 1, "ended " + ended);
            check(conn.requestsInUse() == 0, "requests not back: " + conn.requestsInUse());
            check(!conn.holdsTable() && memory.inUse() == 0, "request table not back: " + memory.inUse());
            for (boolean b : lent) {
                check(!b, "data buffer not back");
            }
            transcript = ended + " " + handled + " " + conn.commands() + " sent "
                    + Arrays.hashCode(OUT.asSlice(0, outPos).toArray(ValueLayout.JAVA_BYTE)) + "/" + outPos;
            memory.close();
            arena.close();
        }

        /** Decodes what the target sent since the last call, checking it is well-formed. */
        List<Pdu> decodeSent() {
            List<Pdu> pdus = new ArrayList<>();
            while (true) {
                PduReader.Event e = reader.decode(OUT, decodedPos, outPos - decodedPos);
                decodedPos += reader.consumed();
                switch (e) {
                    case NEED_MORE -> {
                        return pdus;
                    }
                    case HEADER, DATA -> {
                    }
                    case END -> {
                        check(pdus.isEmpty() || pdus.getLast().type != PduType.C2H_TERM_REQ, "a PDU after C2HTermReq");
                        pdus.add(pdu());
                    }
                    case DATA_DIGEST_ERROR, ERROR -> throw new AssertionError("the target sent a bad PDU: "
                            + reader.errorReason() + " fes " + reader.fes() + " at " + reader.pduStreamOffset());
                }
            }
        }

        private Pdu pdu() {
            int type = reader.type();
            switch (type) {
                case PduType.IC_RESP -> reader.negotiated(reader.icResp().headerDigestEnable(),
                        reader.icResp().dataDigestEnable(), hpda);
                case PduType.C2H_TERM_REQ -> check(conn.state() == TcpQpairConnection.State.TERMINATED,
                        "C2HTermReq but " + conn.state());
                default -> {
                }
            }
            return switch (type) {
                case PduType.CAPSULE_RESP -> {
                    Cqe cqe = new Cqe().wrap(reader.cqe(), 0);
                    yield new Pdu(type, cqe.cid(), cqe.statusField(), 0, 0, 0);
                }
                case PduType.R2T -> new Pdu(type, reader.r2t().cccid(), 0, reader.r2t().r2to(), reader.r2t().r2tl(), 0);
                case PduType.C2H_TERM_REQ -> new Pdu(type, 0, 0, 0, 0, reader.termReq().fes());
                default -> new Pdu(type, 0, 0, 0, 0, 0);
            };
        }

        @Override
        public void command(TcpRequest r) {
            long n = r.length();
            check(r.state() == TcpRequest.State.EXECUTING && n <= MAX_IO && (n == 0) == (r.direction() == DataDirection.NONE)
                    && (n == 0 || r.data() != null && r.data().byteSize() >= n)
                    && (!r.inCapsule() || r.direction() == DataDirection.HOST_TO_CONTROLLER), "handler got " + r);
            byte[] data = r.direction() == DataDirection.HOST_TO_CONTROLLER
                    ? r.data().asSlice(0, n).toArray(ValueLayout.JAVA_BYTE) : null;
            handled.add(new Seen(r.cid(), r.direction(), n, r.inCapsule(), data));
            if ((r.cid() & 1) == 0) {
                finish(r);
            } else {
                held.add(r);
            }
        }

        private static void finish(TcpRequest r) {
            if (r.direction() == DataDirection.CONTROLLER_TO_HOST) {
                r.data().asSlice(0, r.length()).fill((byte) r.cid());
            }
            r.complete(Status.field(Status.SUCCESS, false), r.cid());
        }

        @Override
        public void ended(TcpQpairConnection connection, TcpQpairConnection.State state, int fes, String reason) {
            ended.add(state + " " + fes + " " + reason);
        }

        @Override
        public MemorySegment acquire(long length) {
            for (int i = 0; i < BUFFERS; i++) {
                if (!lent[i] && length <= MAX_IO) {
                    lent[i] = true;
                    return buffers[i].asSlice(0, length); // exact length: reads go out by reference
                }
            }
            return null;
        }

        @Override
        public void release(MemorySegment buffer) {
            for (int i = 0; i < BUFFERS; i++) {
                if (lent[i] && buffers[i].address() == buffer.address()) {
                    lent[i] = false;
                    return;
                }
            }
            throw new AssertionError("released a buffer that was not lent");
        }

        @Override
        public long claim(int length) {
            check(outPos + length <= OUT.byteSize(), "sink full");
            return outPos;
        }

        @Override
        public MemorySegment buffer() {
            return OUT;
        }

        @Override
        public void commit(long offset, int length) {
            outPos = offset + length;
        }
    }
}
