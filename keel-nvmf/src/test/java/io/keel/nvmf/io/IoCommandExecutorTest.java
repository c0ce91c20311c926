package io.keel.nvmf.io;

import static io.keel.bdev.BdevTestApp.params;
import io.keel.bdev.BdevTestApp;
import static org.assertj.core.api.Assertions.assertThat;

import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevIoStatus;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import io.keel.nvme.spec.DsmRange;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;
import io.keel.nvmf.Namespace;
import io.keel.nvmf.Target;
import io.keel.nvmf.ctrlr.AdminCommand;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The NVM I/O command executor on malloc, null and error bdevs through a real subsystem's namespaces. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IoCommandExecutorTest {
    static final String CNODE1 = "nqn.2016-06.io.spdk:cnode1";
    static final int BS = 512;
    static final int BLOCKS = 2048;

    @TempDir
    static Path dir;

    BdevTestApp t;
    KeelThread io;
    IoCommandExecutor ex;

    /** Subsystem cnode1: nsid 1 Malloc0, nsid 2 Null0 (no unmap, no compare), nsid 3 EE_Malloc1 (errors). */
    static KeelThread setUp(BdevTestApp t) {
        t.rpc("bdev_malloc_create", params("name", "Malloc0", "block_size", BS, "num_blocks", BLOCKS));
        t.rpc("bdev_malloc_create", params("name", "Malloc1", "block_size", BS, "num_blocks", BLOCKS));
        t.rpc("bdev_null_create", params("name", "Null0", "block_size", BS, "num_blocks", BLOCKS));
        t.rpc("bdev_error_create", params("base_name", "Malloc1"));
        t.rpc("nvmf_create_subsystem", params("nqn", CNODE1, "allow_any_host", true));
        t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1, "namespace", params("bdev_name", "Malloc0", "nsid", 1)));
        t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1, "namespace", params("bdev_name", "Null0", "nsid", 2)));
        t.rpc("nvmf_subsystem_add_ns", params("nqn", CNODE1, "namespace", params("bdev_name", "EE_Malloc1", "nsid", 3)));
        return t.thread("io", 1);
    }

    static IoCommandExecutor executor(BdevTestApp t, KeelThread io, int depth) {
        Namespace[] table = BdevTestApp.on(t.app.appThread(),
                () -> IoCommandExecutor.namespaceTable(Target.of(t.app).subsystem(CNODE1)));
        return BdevTestApp.on(io, () -> new IoCommandExecutor(table, depth));
    }

    @BeforeAll
    void start() {
        t = BdevTestApp.start(dir);
        io = setUp(t);
        ex = executor(t, io, 64);
    }

    @AfterAll
    void stop() throws Exception {
        BdevTestApp.on(io, () -> {
            ex.close();
            return null;
        });
        t.close();
    }

    /** A command as a transport would hand it over. */
    static final class Cmd implements AdminCommand {
        final Sqe sqe = new Sqe().wrap(Arena.ofAuto().allocate(64));
        MemorySegment data;
        MemorySegment[] pieces;
        long length;
        final CompletableFuture<Integer> status = new CompletableFuture<>();
        int completions;

        Cmd(int opcode, int nsid) {
            sqe.opcode(opcode).nsid(nsid);
        }

        Cmd rw(long slba, int blocks) {
            sqe.rw().slba(slba).blockCount(blocks);
            return this;
        }

        Cmd data(int bytes) {
            data = Arena.ofAuto().allocate(bytes);
            length = bytes;
            return this;
        }

        /** The data in pieces of these lengths (a transport that moves it in several buffers). */
        Cmd pieces(int... bytes) {
            pieces = new MemorySegment[bytes.length + 1]; // one spare: only dataPieceCount() of them count
            length = 0;
            for (int i = 0; i < bytes.length; i++) {
                pieces[i] = Arena.ofAuto().allocate(bytes[i]);
                length += bytes[i];
            }
            pieces[bytes.length] = Arena.ofAuto().allocate(BS).fill((byte) 0xEE);
            data = null;
            return this;
        }

        Cmd fill(int value) {
            data.fill((byte) value);
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
        public MemorySegment[] dataPieces() {
            return pieces;
        }

        @Override
        public int dataPieceCount() {
            return pieces == null ? 0 : pieces.length - 1;
        }

        @Override
        public long length() {
            return length;
        }

        @Override
        public void complete(int statusField, int dw0, int dw1) {
            completions++;
            status.complete(statusField);
        }

        /** The SCT << 8 | SC code it completed with. */
        int code() {
            return Status.codeOf(status.orTimeout(10, TimeUnit.SECONDS).join());
        }
    }

    int run(Cmd c) {
        BdevTestApp.on(io, () -> {
            ex.execute(c);
            return null;
        });
        int code = c.code();
        assertThat(c.completions).isEqualTo(1);
        return code;
    }

    static Cmd write(int nsid, long slba, int blocks, int value) {
        return new Cmd(Opcode.WRITE, nsid).rw(slba, blocks).data(blocks * BS).fill(value);
    }

    static Cmd read(int nsid, long slba, int blocks) {
        return new Cmd(Opcode.READ, nsid).rw(slba, blocks).data(blocks * BS).fill(0x5A);
    }

    static Cmd dsm(int nsid, long... slbaLen) {
        int n = slbaLen.length / 2;
        Cmd c = new Cmd(Opcode.DATASET_MANAGEMENT, nsid).data(n * DsmRange.SIZE);
        c.sqe.dsm().rangeCount(n).attributes(false, false, true);
        DsmRange r = new DsmRange();
        for (int i = 0; i < n; i++) {
            r.wrap(c.data, (long) i * DsmRange.SIZE).slba(slbaLen[2 * i]).length(slbaLen[2 * i + 1]);
        }
        return c;
    }

    static boolean all(MemorySegment s, int value) {
        for (long i = 0; i < s.byteSize(); i++) {
            if (s.get(ValueLayout.JAVA_BYTE, i) != (byte) value) {
                return false;
            }
        }
        return true;
    }

    // ---- data path ----

    @Test
    void writeThenReadBack() {
        Cmd w = write(1, 10, 8, 0);
        for (int i = 0; i < 8 * BS; i++) {
            w.data.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7 + 3));
        }
        assertThat(run(w)).isEqualTo(Status.SUCCESS);
        Cmd r = read(1, 10, 8);
        assertThat(run(r)).isEqualTo(Status.SUCCESS);
        assertThat(r.data.mismatch(w.data)).isEqualTo(-1);
    }

    @Test
    void writeIntoALargerBufferUsesItsFirstLengthBytes() {
        Cmd w = write(1, 40, 2, 0x11);
        w.data = Arena.ofAuto().allocate(4 * BS).fill((byte) 0x11);
        assertThat(run(w)).isEqualTo(Status.SUCCESS);
        Cmd r = read(1, 40, 2);
        r.data = Arena.ofAuto().allocate(4 * BS).fill((byte) 0x77);
        assertThat(run(r)).isEqualTo(Status.SUCCESS);
        assertThat(all(r.data.asSlice(0, 2 * BS), 0x11)).isTrue();
        assertThat(all(r.data.asSlice(2 * BS), 0x77)).isTrue(); // beyond the length: untouched
    }

    @Test
    void dataInPiecesIsWrittenReadAndComparedAsAVector() {
        Cmd w = new Cmd(Opcode.WRITE, 1).rw(500, 7).pieces(4 * BS, 2 * BS, BS);
        for (int i = 0; i < 3; i++) {
            w.pieces[i].fill((byte) (0x60 + i));
        }
        assertThat(run(w)).isEqualTo(Status.SUCCESS);
        Cmd r = read(1, 500, 7);
        assertThat(run(r)).isEqualTo(Status.SUCCESS);
        assertThat(all(r.data.asSlice(0, 4 * BS), 0x60)).isTrue();
        assertThat(all(r.data.asSlice(4 * BS, 2 * BS), 0x61)).isTrue();
        assertThat(all(r.data.asSlice(6 * BS, BS), 0x62)).as("the spare piece is not written").isTrue();
        Cmd rv = new Cmd(Opcode.READ, 1).rw(500, 7).pieces(BS, 6 * BS);
        assertThat(run(rv)).isEqualTo(Status.SUCCESS);
        assertThat(all(rv.pieces[0], 0x60)).isTrue();
        assertThat(rv.pieces[1].asSlice(0, 3 * BS).mismatch(r.data.asSlice(BS, 3 * BS))).isEqualTo(-1);
        assertThat(all(rv.pieces[1].asSlice(5 * BS), 0x62)).isTrue();
        assertThat(all(rv.pieces[2], 0xEE)).as("the spare piece is not read into").isTrue();
        Cmd same = new Cmd(Opcode.COMPARE, 1).rw(500, 7).pieces(4 * BS, 2 * BS, BS);
        for (int i = 0; i < 3; i++) {
            same.pieces[i].fill((byte) (0x60 + i));
        }
        assertThat(run(same)).isEqualTo(Status.SUCCESS);
        same.pieces[2].set(ValueLayout.JAVA_BYTE, 5, (byte) 0);
        Cmd differ = new Cmd(Opcode.COMPARE, 1).rw(500, 7);
        differ.pieces = same.pieces;
        differ.length = same.length;
        assertThat(run(differ)).isEqualTo(Status.COMPARE_FAILURE);
        Cmd short_ = new Cmd(Opcode.WRITE, 1).rw(500, 7).pieces(4 * BS, 2 * BS);
        assertThat(run(short_)).as("pieces shorter than the blocks").isEqualTo(Status.DATA_SGL_LENGTH_INVALID);
    }

    @Test
    void writeZeroesThenReadZeros() {
        assertThat(run(write(1, 100, 4, 0xAB))).isEqualTo(Status.SUCCESS);
        Cmd wz = new Cmd(Opcode.WRITE_ZEROES, 1).rw(101, 2);
        assertThat(run(wz)).isEqualTo(Status.SUCCESS);
        Cmd r = read(1, 100, 4);
        assertThat(run(r)).isEqualTo(Status.SUCCESS);
        assertThat(all(r.data.asSlice(0, BS), 0xAB)).isTrue();
        assertThat(all(r.data.asSlice(BS, 2 * BS), 0)).isTrue();
        assertThat(all(r.data.asSlice(3 * BS, BS), 0xAB)).isTrue();
    }

    @Test
    void dsmDeallocateThenReadZeros() {
        assertThat(run(write(1, 200, 16, 0xCD))).isEqualTo(Status.SUCCESS);
        // three ranges, one empty: 200..201, 205..207
        assertThat(run(dsm(1, 200, 2, 300, 0, 205, 3))).isEqualTo(Status.SUCCESS);
        Cmd r = read(1, 200, 16);
        assertThat(run(r)).isEqualTo(Status.SUCCESS);
        for (int b = 0; b < 16; b++) {
            boolean zeroed = b < 2 || b >= 5 && b < 8;
            assertThat(all(r.data.asSlice((long) b * BS, BS), zeroed ? 0 : 0xCD)).as("block %d", b).isTrue();
        }
    }

    @Test
    void dsmWithoutDeallocateIsANoOp() {
        assertThat(run(write(1, 230, 1, 0x42))).isEqualTo(Status.SUCCESS);
        Cmd d = dsm(1, 230, 1);
        d.sqe.dsm().attributes(true, false, false);
        assertThat(run(d)).isEqualTo(Status.SUCCESS);
        Cmd r = read(1, 230, 1);
        run(r);
        assertThat(all(r.data, 0x42)).isTrue();
    }

    @Test
    void compareSuccessAndMiscompare() {
        assertThat(run(write(1, 300, 4, 0x31))).isEqualTo(Status.SUCCESS);
        Cmd same = new Cmd(Opcode.COMPARE, 1).rw(300, 4).data(4 * BS).fill(0x31);
        assertThat(run(same)).isEqualTo(Status.SUCCESS);
        Cmd differ = new Cmd(Opcode.COMPARE, 1).rw(300, 4).data(4 * BS).fill(0x31);
        differ.data.set(ValueLayout.JAVA_BYTE, 3 * BS + 17, (byte) 0x32);
        assertThat(run(differ)).isEqualTo(Status.COMPARE_FAILURE);
        assertThat(Status.sct(Status.COMPARE_FAILURE)).isEqualTo(2);
        assertThat(Status.sc(Status.COMPARE_FAILURE)).isEqualTo(0x85);
    }

    @Test
    void flushWithoutWriteCacheSucceedsAtOnce() {
        assertThat(run(new Cmd(Opcode.FLUSH, 1))).isEqualTo(Status.SUCCESS);
        assertThat(run(new Cmd(Opcode.FLUSH, 2))).isEqualTo(Status.SUCCESS);
    }

    // ---- error mapping ----

    @Test
    void invalidNamespace() {
        assertThat(run(read(0, 0, 1))).isEqualTo(Status.INVALID_NAMESPACE_OR_FORMAT);
        assertThat(run(read(4, 0, 1))).isEqualTo(Status.INVALID_NAMESPACE_OR_FORMAT);
        assertThat(run(read(0xFFFFFFFF, 0, 1))).isEqualTo(Status.INVALID_NAMESPACE_OR_FORMAT);
        assertThat(run(new Cmd(Opcode.FLUSH, 9))).isEqualTo(Status.INVALID_NAMESPACE_OR_FORMAT);
    }

    @Test
    void lbaOutOfRange() {
        assertThat(run(read(1, BLOCKS - 1, 2))).isEqualTo(Status.LBA_OUT_OF_RANGE);
        assertThat(run(write(1, BLOCKS, 1, 0))).isEqualTo(Status.LBA_OUT_OF_RANGE);
        assertThat(run(read(1, -1L, 1))).isEqualTo(Status.LBA_OUT_OF_RANGE); // SLBA 2^64-1
        assertThat(run(new Cmd(Opcode.WRITE_ZEROES, 1).rw(BLOCKS - 4, 5))).isEqualTo(Status.LBA_OUT_OF_RANGE);
        assertThat(run(new Cmd(Opcode.COMPARE, 1).rw(BLOCKS, 1).data(BS))).isEqualTo(Status.LBA_OUT_OF_RANGE);
        assertThat(run(dsm(1, 0, 1, BLOCKS - 1, 2))).isEqualTo(Status.LBA_OUT_OF_RANGE);
        assertThat(run(read(1, BLOCKS - 1, 1))).isEqualTo(Status.SUCCESS);
    }

    @Test
    void dataLengthMismatch() {
        Cmd shortRead = read(1, 0, 2);
        shortRead.length = BS;
        assertThat(run(shortRead)).isEqualTo(Status.DATA_SGL_LENGTH_INVALID);
        Cmd longWrite = write(1, 0, 1, 0);
        longWrite.data = Arena.ofAuto().allocate(2 * BS);
        longWrite.length = 2 * BS;
        assertThat(run(longWrite)).isEqualTo(Status.DATA_SGL_LENGTH_INVALID);
        Cmd noData = new Cmd(Opcode.WRITE, 1).rw(0, 1);
        assertThat(run(noData)).isEqualTo(Status.DATA_SGL_LENGTH_INVALID);
        Cmd shortDsm = dsm(1, 0, 1, 2, 1);
        shortDsm.length = DsmRange.SIZE;
        assertThat(run(shortDsm)).isEqualTo(Status.DATA_SGL_LENGTH_INVALID);
    }

    @Test
    void unknownOpcode() {
        assertThat(run(new Cmd(0x7E, 1))).isEqualTo(Status.INVALID_OPCODE);
        assertThat(run(new Cmd(Opcode.WRITE_UNCORRECTABLE, 1).rw(0, 1))).isEqualTo(Status.INVALID_OPCODE);
        assertThat(run(new Cmd(Opcode.RESERVATION_REPORT, 1))).isEqualTo(Status.INVALID_OPCODE);
    }

    @Test
    void unsupportedByTheBdevIsInvalidOpcode() {
        assertThat(run(dsm(2, 0, 8))).isEqualTo(Status.INVALID_OPCODE); // null bdev: no unmap
        assertThat(run(new Cmd(Opcode.COMPARE, 2).rw(0, 1).data(BS))).isEqualTo(Status.INVALID_OPCODE);
        assertThat(run(read(2, 0, 1))).isEqualTo(Status.SUCCESS);
    }

    @Test
    void bdevFailureIsInternalError() {
        t.rpc("bdev_error_inject_error", params("name", "EE_Malloc1", "io_type", "read", "error_type", "failure",
                "num", 1));
        assertThat(run(read(3, 0, 1))).isEqualTo(Status.INTERNAL_ERROR);
        assertThat(run(read(3, 0, 1))).isEqualTo(Status.SUCCESS);
        t.rpc("bdev_error_inject_error", params("name", "EE_Malloc1", "io_type", "unmap", "error_type", "failure",
                "num", 1));
        assertThat(run(dsm(3, 0, 1, 8, 1))).isEqualTo(Status.INTERNAL_ERROR);
    }

    @Test
    void bdevNvmeErrorIsPassedThrough() {
        t.rpc("bdev_error_inject_error", params("name", "EE_Malloc1", "io_type", "write", "error_type",
                "nvme_failure", "num", 1, "nvme_sct", 2, "nvme_sc", 0x80));
        assertThat(run(write(3, 0, 1, 1))).isEqualTo(Status.WRITE_FAULT);
    }

    @Test
    void bdevNomemIsRedriven() {
        t.rpc("bdev_error_inject_error", params("name", "EE_Malloc1", "io_type", "write", "error_type", "nomem",
                "num", 3));
        assertThat(run(write(3, 50, 1, 9))).isEqualTo(Status.SUCCESS);
    }

    @Test
    void abortedIsCommandAbortRequested() {
        t.rpc("bdev_error_inject_error", params("name", "EE_Malloc1", "io_type", "read", "error_type", "pending",
                "num", 1));
        Cmd r = read(3, 0, 1);
        BdevTestApp.on(io, () -> {
            ex.execute(r);
            return null;
        });
        assertThat(r.status).isNotDone();
        // a reset through the error bdev completes its held I/O ABORTED
        Namespace ns3 = BdevTestApp.on(t.app.appThread(), () -> Target.of(t.app).subsystem(CNODE1).namespace(3));
        CompletableFuture<Boolean> reset = new CompletableFuture<>();
        BdevTestApp.on(io, () -> {
            IoChannel<BdevChannel> ch = ns3.desc().getIoChannel();
            int rc = ns3.desc().reset(ch.context(), (bio, ok, arg) -> {
                bio.free();
                ch.put();
                reset.complete(ok);
            }, null);
            assertThat(rc).isZero();
            return null;
        });
        assertThat(reset.orTimeout(10, TimeUnit.SECONDS).join()).isTrue();
        assertThat(r.code()).isEqualTo(Status.ABORT_REQUESTED);
        assertThat(BdevIoStatus.ABORTED).isNotNull();
    }

    @Test
    void commandsAfterCloseAreAborted() throws Exception {
        IoCommandExecutor other = executor(t, io, 4);
        Cmd before = read(1, 0, 1);
        BdevTestApp.on(io, () -> {
            other.execute(before);
            other.close(); // one in flight: channels are put when it completes
            return null;
        });
        assertThat(before.code()).isEqualTo(Status.SUCCESS);
        Cmd after = read(1, 0, 1);
        BdevTestApp.on(io, () -> {
            other.execute(after);
            return null;
        });
        assertThat(after.code()).isEqualTo(Status.ABORTED_SQ_DELETION);
        assertThat(BdevTestApp.on(io, other::closed)).isTrue();
    }

    @Test
    void closeAbortsCommandsWaitingForABdevIoAndPutsChannelsAfterThoseAtTheBdev(@TempDir Path dir2) throws Exception {
        try (BdevTestApp small = BdevTestApp.start(dir2, Map.of("bdev_set_options",
                params("bdev_io_pool_size", 4, "bdev_io_cache_size", 1)))) {
            KeelThread thread = setUp(small);
            IoCommandExecutor e = executor(small, thread, 8);
            // the first four writes take the pool's four bdev_ios and stay at the error bdev; two more wait
            small.rpc("bdev_error_inject_error", params("name", "EE_Malloc1", "io_type", "write", "error_type",
                    "pending", "num", 4));
            List<Cmd> writes = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                writes.add(write(3, i, 1, i));
            }
            BdevTestApp.on(thread, () -> {
                writes.forEach(e::execute);
                return null;
            });
            assertThat(BdevTestApp.on(thread, e::waitingForBdevIo)).isEqualTo(2);
            BdevTestApp.on(thread, () -> {
                e.close();
                return null;
            });
            assertThat(writes.get(4).code()).isEqualTo(Status.ABORTED_SQ_DELETION);
            assertThat(writes.get(5).code()).isEqualTo(Status.ABORTED_SQ_DELETION);
            assertThat(BdevTestApp.on(thread, e::inFlight)).isEqualTo(4);
            assertThat(BdevTestApp.on(thread, e::closed)).as("channels held while writes are at the bdev").isFalse();
            small.rpc("bdev_error_resume_pending", params("name", "EE_Malloc1"));
            for (int i = 0; i < 4; i++) {
                assertThat(writes.get(i).code()).isEqualTo(Status.SUCCESS);
            }
            assertThat(BdevTestApp.on(thread, e::closed)).isTrue();
        }
    }

    // ---- zero allocation ----

    @Test
    void executingAllocatesNothingPerCommand() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int n = 48;
        List<Cmd> warm = new ArrayList<>();
        List<Cmd> measured = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            warm.add(read(1, i, 1));
            measured.add(i % 3 == 0 ? read(1, i, 1) : i % 3 == 1 ? write(1, 500 + i, 1, i) : read(7, i, 1));
        }
        BdevTestApp.on(io, () -> {
            warm.forEach(ex::execute);
            return null;
        });
        warm.forEach(Cmd::code);
        AtomicReference<Long> bytes = new AtomicReference<>();
        BdevTestApp.on(io, () -> {
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < n; i++) {
                ex.execute(measured.get(i));
            }
            bytes.set(mx.getCurrentThreadAllocatedBytes() - before);
            return null;
        });
        measured.forEach(Cmd::code);
        // what the bdev layer allocates on submission is outside this executor; allow a small constant
        assertThat(bytes.get()).as("bytes allocated submitting %d commands", n).isLessThan(n * 16L);
    }

    // ---- R6: a tiny bdev_io pool ----

    @Test
    void manyCommandsInFlightOnATinyBdevIoPoolAllComplete(@TempDir Path dir2) throws Exception {
        try (BdevTestApp small = BdevTestApp.start(dir2, Map.of("bdev_set_options",
                params("bdev_io_pool_size", 4, "bdev_io_cache_size", 1)))) {
            // malloc only: a stacked bdev (EE_Malloc1) needs a second bdev_io per I/O for its child, and with every
            // io of so small a pool held by parents the children never get one (a bdev-layer limit, not this one's)
            KeelThread thread = setUp(small);
            IoCommandExecutor e = executor(small, thread, 32);
            List<Cmd> writes = new ArrayList<>();
            for (int i = 0; i < 96; i++) {
                writes.add(write(1, i * 4L, 4, i + 1));
            }
            BdevTestApp.on(thread, () -> {
                writes.forEach(e::execute); // more than the pool and more than the queue's slots
                return null;
            });
            for (Cmd w : writes) {
                assertThat(w.code()).isEqualTo(Status.SUCCESS);
                assertThat(w.completions).isEqualTo(1);
            }
            List<Cmd> mixed = new ArrayList<>();
            for (int i = 0; i < 96; i++) {
                int nsid = 1;
                mixed.add(switch (i % 4) {
                    case 0, 1 -> read(nsid, i * 4L, 4);
                    case 2 -> dsm(nsid, i * 4L, 1, i * 4L + 2, 1, 1500, 3);
                    default -> new Cmd(Opcode.COMPARE, nsid).rw(i * 4L, 4).data(4 * BS).fill(i + 1);
                });
            }
            BdevTestApp.on(thread, () -> {
                mixed.forEach(e::execute);
                return null;
            });
            for (int i = 0; i < mixed.size(); i++) {
                Cmd c = mixed.get(i);
                assertThat(c.code()).as("command %d", i).isEqualTo(Status.SUCCESS);
                if (i % 4 < 2) {
                    assertThat(all(c.data, i + 1)).isTrue();
                }
            }
            assertThat(BdevTestApp.on(thread, e::ioWaits)).isPositive();
            assertThat(BdevTestApp.on(thread, e::inFlight)).isZero();
            BdevTestApp.on(thread, () -> {
                e.close();
                return null;
            });
        }
    }
}
