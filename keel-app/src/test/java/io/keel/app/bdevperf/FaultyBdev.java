package io.keel.app.bdevperf;

import io.keel.bdev.Bdev;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.BdevModule;
import io.keel.bdev.IoType;
import io.keel.core.app.KeelApp;
import io.keel.core.thread.IoDevice;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A test bdev held in memory, like malloc, that completes on a later poll and can misbehave on purpose: drop
 * every Nth write (acknowledged, never stored: stale data), fail every Nth read, complete every Nth I/O late,
 * or never complete one. It also watches for two I/Os to overlapping blocks in flight at once.
 */
final class FaultyBdev extends Bdev {
    enum Fault { NONE, DROP_WRITES, FAIL_READS, DELAY, HANG_ONE }

    private static final BdevModule MODULE = () -> "test_faulty";
    private static final IoDevice<Completer> COMPLETERS =
            IoDevice.register("test_faulty_bdev", Completer::new, Completer::close);

    private final Arena arena = Arena.ofShared();
    private final MemorySegment memory;
    private final Fault fault;
    private final long every;
    private final long delayNanos;
    private final BitSet inFlight = new BitSet();
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong ios = new AtomicLong();
    final AtomicLong overlaps = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();
    final AtomicLong maxInFlight = new AtomicLong();
    private int inFlightIos;

    FaultyBdev(String name, int blockSize, long numBlocks, Fault fault, long every, long delayNanos) {
        super(name, null, "Faulty test disk", blockSize, numBlocks,
                EnumSet.of(IoType.READ, IoType.WRITE, IoType.FLUSH, IoType.RESET, IoType.UNMAP));
        this.memory = arena.allocate(numBlocks * blockSize, 4096);
        this.fault = fault;
        this.every = every;
        this.delayNanos = delayNanos;
    }

    /** Creates and registers the bdev in a running application (from the launching thread). */
    static FaultyBdev register(KeelApp app, String name, int blockSize, long numBlocks, Fault fault, long every,
            long delayNanos) {
        FaultyBdev b = new FaultyBdev(name, blockSize, numBlocks, fault, every, delayNanos);
        CompletableFuture<Void> done = new CompletableFuture<>();
        app.onAppThread(() -> {
            BdevLayer.of(app).register(b);
            done.complete(null);
        });
        done.orTimeout(10, TimeUnit.SECONDS).join();
        return b;
    }

    @Override
    public BdevModule module() {
        return MODULE;
    }

    @Override
    protected IoDevice<?> moduleDevice() {
        return COMPLETERS;
    }

    @Override
    protected void submit(BdevIo io) {
        boolean data = io.type() == IoType.READ || io.type() == IoType.WRITE;
        if (data) {
            enter(io);
        }
        long at = io.offsetBlocks() * blockSize();
        BdevIoStatus status = BdevIoStatus.SUCCESS;
        switch (io.type()) {
            case READ -> {
                if (fault == Fault.FAIL_READS && reads.incrementAndGet() % every == 0) {
                    status = BdevIoStatus.FAILED;
                } else {
                    io.copyToBuffers(memory, at);
                }
            }
            case WRITE -> {
                if (fault == Fault.DROP_WRITES && writes.incrementAndGet() % every == 0) {
                    dropped.incrementAndGet();
                } else {
                    io.copyFromBuffers(memory, at);
                }
            }
            case UNMAP -> memory.asSlice(at, io.lengthBytes()).fill((byte) 0);
            default -> { }
        }
        long due = 0;
        long n = ios.incrementAndGet();
        if (fault == Fault.DELAY && n % every == 0) {
            due = System.nanoTime() + delayNanos;
        } else if (fault == Fault.HANG_ONE && n == every) {
            due = Long.MAX_VALUE;
        }
        Completer c = io.moduleChannel();
        c.add(io, status, due, data);
    }

    private synchronized void enter(BdevIo io) {
        int from = (int) io.offsetBlocks();
        int to = (int) (io.offsetBlocks() + io.numBlocks());
        if (inFlight.nextSetBit(from) >= 0 && inFlight.nextSetBit(from) < to) {
            overlaps.incrementAndGet();
        }
        inFlight.set(from, to);
        inFlightIos++;
        maxInFlight.accumulateAndGet(inFlightIos, Math::max);
    }

    private synchronized void leave(BdevIo io) {
        inFlight.clear((int) io.offsetBlocks(), (int) (io.offsetBlocks() + io.numBlocks()));
        inFlightIos--;
    }

    @Override
    protected void destruct(Runnable done) {
        arena.close();
        done.run();
    }

    /** Per thread: I/Os to complete on a later poll, each when it is due. */
    static final class Completer {
        private final List<Entry> pending = new ArrayList<>();
        private final Poller poller;

        record Entry(BdevIo io, BdevIoStatus status, long due, boolean data) {
        }

        Completer(KeelThread t) {
            poller = t.registerPoller("test_faulty_bdev", this::poll);
        }

        void add(BdevIo io, BdevIoStatus status, long due, boolean data) {
            pending.add(new Entry(io, status, due, data));
        }

        private int poll() {
            if (pending.isEmpty()) {
                return PollerFn.IDLE;
            }
            long now = System.nanoTime();
            List<Entry> ready = new ArrayList<>();
            pending.removeIf(e -> {
                if (e.due() <= now) {
                    ready.add(e);
                    return true;
                }
                return false;
            });
            for (Entry e : ready) {
                if (e.data()) {
                    ((FaultyBdev) e.io().bdev()).leave(e.io()); // the range is free before the caller hears of it
                }
                e.io().complete(e.status());
            }
            return ready.isEmpty() ? PollerFn.IDLE : PollerFn.BUSY;
        }

        void close() {
            poller.unregister();
        }
    }
}
