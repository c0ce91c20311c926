package io.keel.bdev.exec;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.BdevTestApp;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request executor against a bdev that holds every I/O until the test ends it, on a bdev_io pool of four: each
 * outcome reaches the transport once, buffers and range tables reach the bdev as they should, requests that find
 * no bdev_io wait and go in the order they came, and a drain cancels what waits, lets what is at the bdev finish,
 * and tells its owner once (or at its bound).
 */
class RequestExecutorTest {
    static final int BLOCK = HeldBdev.BLOCK;
    static final int POOL = 4;
    static final long LONG_BOUND = 10_000_000_000L;

    @TempDir
    Path dir;
    BdevTestApp t;
    HeldBdev bdev;
    KeelThread w;
    final List<Queue> queues = new ArrayList<>();

    @BeforeEach
    void start() {
        t = BdevTestApp.start(dir, Map.of("bdev_set_options", params("bdev_io_pool_size", POOL,
                "bdev_io_cache_size", 1)));
        bdev = new HeldBdev("Held0");
        t.layer().register(bdev);
        w = t.thread("w", 1);
    }

    @AfterEach
    void stop() throws Exception {
        run(() -> queues.forEach(Queue::close));
        t.close();
    }

    /** One queue on thread w: a descriptor and w's channel to Held0, an executor, and what it reported, in order. */
    final class Queue implements RequestDone<String> {
        final BdevDesc desc = t.layer().open("Held0", true, (e, b) -> { });
        final IoChannel<BdevChannel> channel = desc.getIoChannel();
        final BdevChannel ch = channel.context();
        final RequestExecutor<String> ex;
        final List<String> events = new CopyOnWriteArrayList<>();

        Queue(int depth) {
            ex = new RequestExecutor<>("test_queue", depth, this);
        }

        @Override
        public void requestDone(String request, RequestStatus status, int detail) {
            events.add(request + " " + status + (detail != 0 ? " " + detail : ""));
        }

        DrainListener listener() {
            return new DrainListener() {
                @Override
                public void drained() {
                    events.add("drained");
                }

                @Override
                public void drainOverdue(int atBdev) {
                    events.add("overdue " + atBdev);
                }
            };
        }

        void close() {
            channel.put();
            desc.close();
        }
    }

    Queue queue(int depth) {
        Queue q = on(() -> new Queue(depth));
        queues.add(q);
        return q;
    }

    <T> T on(Callable<T> c) {
        return BdevTestApp.on(w, c);
    }

    void run(Runnable r) {
        on(() -> {
            r.run();
            return null;
        });
    }

    /** Ends the oldest I/O held at the bdev on w. */
    void endNext(Consumer<BdevIo> how) {
        run(() -> how.accept(bdev.held().ios.poll()));
    }

    void endNext(BdevIoStatus status) {
        endNext(io -> io.complete(status));
    }

    List<String> arrived() {
        return on(() -> List.copyOf(bdev.held().arrived));
    }

    static MemorySegment buffer(long bytes) {
        return Arena.ofAuto().allocate(bytes, 64);
    }

    // ---- outcomes ----

    @Test
    void eachRequestEndsOnceWithWhatTheTransportNeedsForItsStatus() {
        Queue q = queue(8);
        MemorySegment buf = buffer(BLOCK);
        run(() -> {
            q.ex.read("read", q.desc, q.ch, buf, 0, 1);
            q.ex.write("write", q.desc, q.ch, buf, 1, 1);
            q.ex.compare("compare", q.desc, q.ch, buf, 2, 1);
            q.ex.read("aborted", q.desc, q.ch, buf, 3, 1);
        });
        assertThat(q.events).as("all four at the bdev").isEmpty();
        endNext(BdevIoStatus.SUCCESS);
        endNext(io -> io.completeNvme(2, 0x81));
        endNext(BdevIoStatus.MISCOMPARE);
        endNext(BdevIoStatus.ABORTED);
        run(() -> q.ex.read("failed", q.desc, q.ch, buf, 4, 1));
        endNext(BdevIoStatus.FAILED);
        BdevDesc readOnly = on(() -> t.layer().open("Held0", false, (e, b) -> { }));
        run(() -> {
            q.ex.flush("flush", q.desc, q.ch, 0, 1); // Held0 has no flush
            q.ex.read("beyond", q.desc, q.ch, buf, HeldBdev.BLOCKS, 1);
            q.ex.write("read-only", readOnly, q.ch, buf, 0, 1);
            readOnly.close();
        });
        assertThat(q.events).containsExactly("read SUCCESS", "write NVME_ERROR " + (2 << 8 | 0x81),
                "compare MISCOMPARE", "aborted ABORTED", "failed FAILED", "flush REFUSED -95", "beyond REFUSED -22",
                "read-only REFUSED -9");
        assertThat(on(q.ex::inFlight)).isZero();
    }

    @Test
    void aBufferLargerThanItsIoGivesItsFirstBytesAndAVectorGoesWhole() {
        Queue q = queue(8);
        MemorySegment big = buffer(4 * BLOCK);
        run(() -> {
            q.ex.read("big", q.desc, q.ch, big, 10, 2);
            q.ex.writev("vector", q.desc, q.ch, new MemorySegment[] {buffer(BLOCK), buffer(2 * BLOCK), null}, 2, 20, 3);
            q.ex.writeZeroes("zeroes", q.desc, q.ch, 30, 4);
            q.ex.unmap("unmap", q.desc, q.ch, 40, 5);
        });
        assertThat(arrived()).containsExactly("READ 10+2/1024", "WRITE 20+3/1536", "WRITE_ZEROES 30+4/2048",
                "UNMAP 40+5/2560");
        for (int i = 0; i < 4; i++) {
            endNext(BdevIoStatus.SUCCESS);
        }
        assertThat(q.events).containsExactly("big SUCCESS", "vector SUCCESS", "zeroes SUCCESS", "unmap SUCCESS");
    }

    @Test
    void piecesOfLargerSegmentsGoWithoutAViewAndReadBackAsWritten() {
        t.rpc("bdev_malloc_create", params("name", "Malloc0", "block_size", BLOCK, "num_blocks", 64));
        BdevDesc malloc = on(() -> t.layer().open("Malloc0", true, (e, b) -> { }));
        IoChannel<BdevChannel> channel = on(malloc::getIoChannel);
        Queue q = queue(4);
        try {
            // two "guest memory regions"; the I/O's 1024 bytes are three pieces of them, read back into two others
            MemorySegment[] regions = {buffer(4096), buffer(4096)};
            for (int i = 0; i < 4096; i++) {
                regions[0].set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + 7));
                regions[1].set(ValueLayout.JAVA_BYTE, i, (byte) (i * 17 + 3));
            }
            MemorySegment[] bases = {regions[0], regions[1], regions[0]};
            long[] offsets = {7, 1000, 2000};
            long[] lengths = {100, 300, 624};
            byte[] written = concat(bases, offsets, lengths);
            // read back through entries 1 and 2 of longer arrays (a transport passes its own, less a header's entry)
            MemorySegment[] readBases = {regions[0], regions[1], regions[0], regions[1]};
            long[] readOffsets = {0, 3000, 3000, 0};
            long[] readLengths = {16, 24, 1000, 1};
            run(() -> q.ex.writev("write", malloc, channel.context(), bases, offsets, lengths, 0, 3, 8, 2));
            await().atMost(Duration.ofSeconds(5)).until(() -> q.events.contains("write SUCCESS"));
            run(() -> q.ex.readv("read", malloc, channel.context(), readBases, readOffsets, readLengths, 1, 2, 8, 2));
            await().atMost(Duration.ofSeconds(5)).until(() -> q.events.contains("read SUCCESS"));
            assertThat(concat(Arrays.copyOfRange(readBases, 1, 3), Arrays.copyOfRange(readOffsets, 1, 3),
                    Arrays.copyOfRange(readLengths, 1, 3))).isEqualTo(written);
            // a piece that does not lie inside its segment is refused, and so are entries past the arrays' end
            run(() -> {
                q.ex.writev("outside", malloc, channel.context(), new MemorySegment[] {regions[0]}, new long[] {4000},
                        new long[] {BLOCK}, 0, 1, 0, 1);
                q.ex.readv("negative", malloc, channel.context(), new MemorySegment[] {regions[0]}, new long[] {-1},
                        new long[] {BLOCK}, 0, 1, 0, 1);
                q.ex.readv("past", malloc, channel.context(), readBases, readOffsets, readLengths, 3, 2, 8, 2);
            });
            assertThat(q.events).endsWith("outside REFUSED -22", "negative REFUSED -22", "past REFUSED -22");
        } finally {
            run(() -> {
                channel.put();
                malloc.close();
            });
        }
    }

    static byte[] concat(MemorySegment[] bases, long[] offsets, long[] lengths) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < bases.length; i++) {
            out.writeBytes(bases[i].asSlice(offsets[i], lengths[i]).toArray(ValueLayout.JAVA_BYTE));
        }
        return out.toByteArray();
    }

    @Test
    void aRangeTableGoesOneRangeAtATimeSkippingEmptyOnesAndStopsAtAFailure() {
        Queue q = queue(8);
        MemorySegment discard = PairRanges.table(10, 2, 99, 0, 20, 3);
        run(() -> q.ex.unmap("discard", q.desc, q.ch, discard, 3, PairRanges.FORMAT));
        assertThat(arrived()).containsExactly("UNMAP 10+2/1024");
        endNext(BdevIoStatus.SUCCESS);
        assertThat(arrived()).containsExactly("UNMAP 10+2/1024", "UNMAP 20+3/1536");
        assertThat(q.events).isEmpty();
        endNext(BdevIoStatus.SUCCESS);
        assertThat(q.events).containsExactly("discard SUCCESS");

        MemorySegment zeroes = PairRanges.table(30, 1, 40, 1);
        MemorySegment empty = PairRanges.table(50, 0);
        run(() -> q.ex.writeZeroes("zeroes", q.desc, q.ch, zeroes, 2, PairRanges.FORMAT));
        endNext(BdevIoStatus.FAILED);
        run(() -> q.ex.unmap("empty", q.desc, q.ch, empty, 1, PairRanges.FORMAT));
        assertThat(arrived()).hasSize(3).endsWith("WRITE_ZEROES 30+1/512");
        assertThat(q.events).containsExactly("discard SUCCESS", "zeroes FAILED", "empty SUCCESS");
    }

    // ---- slots and waits ----

    @Test
    void moreRequestsThanSlotsStillRun() {
        Queue q = queue(2);
        MemorySegment buf = buffer(BLOCK);
        run(() -> {
            for (int i = 0; i < POOL; i++) {
                q.ex.read("r" + i, q.desc, q.ch, buf, i, 1);
            }
        });
        assertThat(on(q.ex::inFlight)).isEqualTo(POOL);
        for (int i = 0; i < POOL; i++) {
            endNext(BdevIoStatus.SUCCESS);
        }
        assertThat(q.events).containsExactly("r0 SUCCESS", "r1 SUCCESS", "r2 SUCCESS", "r3 SUCCESS");
        assertThat(on(q.ex::inFlight)).isZero();
    }

    @Test
    void requestsThatFindNoBdevIoWaitAndGoInTheOrderTheyCame() {
        Queue q = queue(16);
        int n = 10;
        run(() -> {
            for (int i = 0; i < n; i++) {
                q.ex.write("w" + i, q.desc, q.ch, buffer(BLOCK), i, 1);
            }
        });
        assertThat(arrived()).hasSize(POOL);
        assertThat(on(q.ex::waitingForBdevIo)).isEqualTo(n - POOL);
        assertThat(on(q.ex::inFlight)).isEqualTo(n);
        assertThat(on(q.ex::ioWaits)).isEqualTo(n - POOL);
        List<String> order = new ArrayList<>();
        List<String> ends = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            order.add("WRITE " + i + "+1/" + BLOCK);
            ends.add("w" + i + " SUCCESS");
            endNext(BdevIoStatus.SUCCESS);
        }
        assertThat(arrived()).containsExactlyElementsOf(order);
        assertThat(q.events).containsExactlyElementsOf(ends);
        assertThat(on(q.ex::waitingForBdevIo)).isZero();
        assertThat(on(q.ex::inFlight)).isZero();
    }

    // ---- drain ----

    @Test
    void drainCancelsWhatWaitsLetsWhatIsAtTheBdevFinishThenTellsTheOwnerOnce() {
        Queue q = queue(16);
        run(() -> {
            for (int i = 0; i < POOL + 2; i++) {
                q.ex.write("w" + i, q.desc, q.ch, buffer(BLOCK), i, 1);
            }
        });
        run(() -> q.ex.drain(LONG_BOUND, q.listener()));
        assertThat(q.events).containsExactly("w4 CANCELLED", "w5 CANCELLED");
        assertThat(on(q.ex::state)).isEqualTo(RequestExecutor.State.DRAINING);
        run(() -> q.ex.read("late", q.desc, q.ch, buffer(BLOCK), 0, 1));
        assertThat(q.events).endsWith("late CANCELLED");
        assertThat(on(q.ex::inFlight)).isEqualTo(POOL);
        for (int i = 0; i < POOL - 1; i++) {
            endNext(BdevIoStatus.SUCCESS);
        }
        assertThat(q.events).doesNotContain("drained");
        endNext(BdevIoStatus.SUCCESS);
        assertThat(q.events).endsWith("w3 SUCCESS", "drained");
        assertThat(on(q.ex::state)).isEqualTo(RequestExecutor.State.DRAINED);
        run(() -> q.ex.drain(LONG_BOUND, q.listener())); // again: told at once
        assertThat(q.events).containsOnlyOnce("w0 SUCCESS").endsWith("drained", "drained");
        assertThat(arrived()).as("what was cancelled never reached the bdev").hasSize(POOL);

        // its place in the thread's io-wait queue, left behind, harms nobody: another queue runs as usual
        Queue other = queue(4);
        run(() -> other.ex.read("after", other.desc, other.ch, buffer(BLOCK), 0, 1));
        endNext(BdevIoStatus.SUCCESS);
        assertThat(other.events).containsExactly("after SUCCESS");
    }

    @Test
    void aDrainPastItsBoundTellsTheOwnerOnceAndStillEndsWhenTheBdevAnswers() throws Exception {
        Queue q = queue(4);
        run(() -> q.ex.read("slow", q.desc, q.ch, buffer(BLOCK), 0, 1));
        run(() -> q.ex.drain(50_000_000L, q.listener()));
        await().atMost(Duration.ofSeconds(5)).until(() -> q.events.contains("overdue 1"));
        Thread.sleep(200); // the bound fires once
        assertThat(q.events).containsExactly("overdue 1");
        endNext(BdevIoStatus.SUCCESS);
        assertThat(q.events).containsExactly("overdue 1", "slow SUCCESS", "drained");
        assertThat(on(() -> w.allPollers().stream().map(p -> p.name()).toList()))
                .doesNotContain("test_queue_drain_bound");
    }

    @Test
    void aDrainWithNothingInFlightEndsAtOnce() {
        Queue q = queue(4);
        run(() -> q.ex.drain(LONG_BOUND, q.listener()));
        assertThat(q.events).containsExactly("drained");
        assertThat(on(() -> w.allPollers().stream().map(p -> p.name()).toList()))
                .doesNotContain("test_queue_drain_bound");
    }
}
