package io.keel.core.iobuf;

import io.keel.core.mem.DmaMemory;
import io.keel.core.mem.NativeArena;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.IoDevice;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keel's I/O buffer pools (SPDK's {@code spdk_iobuf_*}): a small and a large global pool of fixed-size,
 * 4096-aligned off-heap buffers, each pool one mapping owned by a {@link NativeArena}, with the free buffers
 * on a bounded lock-free stack; and per-thread {@link IoBufChannel}s with caches in front of them. One
 * instance per application, made by the {@code iobuf} subsystem at init ({@link IoBufSubsystem#of}).
 *
 * <p>It is an io_device ({@code "iobuf"}): each thread with channels holds one io_channel whose context keeps
 * that thread's wait queues and retry poller, so statistics are gathered on each owner thread in turn
 * ({@code spdk_for_each_channel}) and {@link #finish} waits until every channel has been closed.
 *
 * <p>No waiter hangs (rule R6, scenario S3): a queued waiter is served when a buffer is put on its thread,
 * and by its thread's retry poller (timed, running only while waiters are queued), which takes buffers freed
 * on other threads from the global pool and asks other threads to give back buffers sitting in their caches.
 * While any thread waits for a pool, buffers of that pool that are put go to the global pool, not to caches.
 */
public final class IoBuf {
    private static final Logger LOG = LoggerFactory.getLogger(IoBuf.class);
    /** Alignment of every buffer, as SPDK's {@code IOBUF_ALIGNMENT}. */
    public static final int ALIGNMENT = 4096;
    /** How often a thread with queued waiters retries the global pool. */
    public static final long DEFAULT_RETRY_PERIOD_MICROS = 100;
    /** How long {@link #finish} waits for channels to be closed before it frees the pools anyway (rule R5). */
    static final long FINISH_TIMEOUT_MICROS = 5_000_000;

    private enum State { OPEN, FINISHING, FREED }

    private final IoBufOptions options;
    private final long retryPeriodMicros;
    private final NativeArena arena;
    final BufferPool smallPool;
    final BufferPool largePool;
    private final IoDevice<IoBufThread> device;
    /** The pools' regions in {@link DmaMemory}, so a device may move data in any buffer without a copy. */
    private final List<DmaMemory.Range> dmaRanges;
    private final java.util.concurrent.CopyOnWriteArrayList<String> modules = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Every open channel (copy on write; read without locking by threads looking for cached buffers). */
    /** Every open channel; replaced by compare-and-set on open and close (control path, no lock on a reactor). */
    private final java.util.concurrent.atomic.AtomicReference<IoBufChannel[]> channels =
            new java.util.concurrent.atomic.AtomicReference<>(new IoBufChannel[0]);
    private volatile State state = State.OPEN;
    private final List<Runnable> finishCallbacks = new ArrayList<>(1);
    private Poller finishTimeout;

    private IoBuf(IoBufOptions options, long retryPeriodMicros) {
        this.options = options;
        this.retryPeriodMicros = retryPeriodMicros;
        this.arena = new NativeArena();
        try {
            this.smallPool = new BufferPool("small", arena, (int) options.smallPoolCount(), (int) options.smallBufsize());
            this.largePool = new BufferPool("large", arena, (int) options.largePoolCount(), (int) options.largeBufsize());
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            throw e;
        }
        this.device = IoDevice.register("iobuf", t -> new IoBufThread(this, t), IoBufThread::destroy);
        this.dmaRanges = List.of(DmaMemory.register(smallPool.region), DmaMemory.register(largePool.region));
    }

    /**
     * Allocates the pools with these options (buffer sizes rounded up to 4096). Any thread, but not a reactor
     * when it may be the JVM's first: linking the native calls takes ~0.5 s once (later calls take ~1-5 ms
     * for the default sizes: a mapping and one segment object per buffer; pages are touched only when used).
     */
    public static IoBuf create(IoBufOptions options) {
        return create(options, DEFAULT_RETRY_PERIOD_MICROS);
    }

    /**
     * As {@link #create(IoBufOptions)}, with the retry poller's period. Counts and sizes need only be positive
     * here (tests use tiny pools); {@code iobuf_set_options} enforces SPDK's minimums.
     */
    public static IoBuf create(IoBufOptions options, long retryPeriodMicros) {
        options.validateShape();
        if (retryPeriodMicros <= 0) {
            throw new IllegalArgumentException("the retry period must be positive: " + retryPeriodMicros);
        }
        return new IoBuf(options.aligned(), retryPeriodMicros);
    }

    /** The options in effect (buffer sizes rounded up to 4096). */
    public IoBufOptions options() {
        return options;
    }

    /**
     * The memory every buffer lies in: one region per pool (small, then large), alive until the pools are freed. A
     * transport registers them once with a device that reads and writes buffers by itself (an RDMA protection
     * domain), instead of registering each buffer as it is used. They are in {@link DmaMemory} too, from creation
     * until the pools are freed.
     */
    public List<MemorySegment> regions() {
        return List.of(smallPool.region, largePool.region);
    }

    public int smallBufsize() {
        return smallPool.bufsize;
    }

    public int largeBufsize() {
        return largePool.bufsize;
    }

    public long retryPeriodMicros() {
        return retryPeriodMicros;
    }

    /** Free buffers in the global small pool (a snapshot; caches not included). */
    public int smallPoolAvailable() {
        return smallPool.available();
    }

    /** Free buffers in the global large pool (a snapshot; caches not included). */
    public int largePoolAvailable() {
        return largePool.available();
    }

    /**
     * Registers a module name for statistics (SPDK's {@code spdk_iobuf_register_module}); returns false if it
     * was already registered. {@link #channel} registers unknown names itself. Any thread.
     */
    public boolean registerModule(String module) {
        return modules.addIfAbsent(module);
    }

    /** The registered module names, in registration order. */
    public List<String> modules() {
        return List.copyOf(modules);
    }

    /**
     * Opens a channel for {@code module} on the calling lightweight thread with caches of the given sizes
     * (SPDK's bdev layer uses 128 small and 16 large). Caches start empty and fill as buffers are put back.
     *
     * @throws IllegalStateException off a lightweight thread, or once {@link #finish} has begun
     */
    public IoBufChannel channel(String module, int smallCacheSize, int largeCacheSize) {
        KeelThread t = KeelThread.current();
        if (t == null) {
            throw new IllegalStateException("an iobuf channel must be opened on a lightweight thread");
        }
        if (smallCacheSize < 0 || largeCacheSize < 0) {
            throw new IllegalArgumentException("negative iobuf cache size");
        }
        if (state != State.OPEN) {
            throw new IllegalStateException("iobuf is finishing: no new channels");
        }
        registerModule(module);
        IoChannel<IoBufThread> io = t.getIoChannel(device);
        if (io == null) {
            throw new IllegalStateException("iobuf is finishing: no new channels");
        }
        IoBufChannel ch = new IoBufChannel(this, io, module, smallCacheSize, largeCacheSize);
        io.context().channels.add(ch);
        channels.updateAndGet(now -> {
            IoBufChannel[] next = Arrays.copyOf(now, now.length + 1);
            next[now.length] = ch;
            return next;
        });
        return ch;
    }

    void channelClosed(IoBufChannel ch) {
        channels.updateAndGet(now -> {
            for (int i = 0; i < now.length; i++) {
                if (now[i] == ch) {
                    IoBufChannel[] next = new IoBufChannel[now.length - 1];
                    System.arraycopy(now, 0, next, 0, i);
                    System.arraycopy(now, i + 1, next, i, now.length - i - 1);
                    return next;
                }
            }
            return now;
        });
    }

    /**
     * Called by a thread whose queue for {@code pool} is not empty: asks every channel on another thread that
     * seems to hold cached buffers of that pool to give them back (one request in flight per channel).
     */
    void requestFlushes(BufferPool pool, KeelThread from) {
        IoBufChannel[] all = channels.get();
        for (IoBufChannel ch : all) {
            if (ch.thread() != from && ch.cacheOf(pool).countHint() > 0 && ch.claimFlush()) {
                if (!ch.thread().send(IoBufChannel::flush, ch)) {
                    ch.flushNotSent();
                }
            }
        }
    }

    boolean isFreed() {
        return state == State.FREED;
    }

    /**
     * Gathers {@code iobuf_get_stats}: one entry per registered module, its channels on every thread summed,
     * each thread summing its own channels (rule R1). {@code done} runs on the calling lightweight thread.
     */
    public void getStats(Consumer<List<IoBufModuleStats>> done) {
        List<String> names = modules();
        long[][] sums = new long[names.size()][8];
        device.forEachChannel((it, io) -> {
            for (IoBufChannel ch : io.context().channels) {
                int m = names.indexOf(ch.module());
                if (m >= 0) {
                    add(sums[m], 0, ch.smallStats());
                    add(sums[m], 4, ch.largeStats());
                }
            }
            it.next(0);
        }, status -> {
            List<IoBufModuleStats> out = new ArrayList<>(names.size());
            for (int i = 0; i < names.size(); i++) {
                long[] s = sums[i];
                out.add(new IoBufModuleStats(names.get(i), new IoBufPoolStats(s[0], s[1], s[2], s[3]),
                        new IoBufPoolStats(s[4], s[5], s[6], s[7])));
            }
            done.accept(out);
        });
    }

    private static void add(long[] into, int at, IoBufPoolStats s) {
        into[at] += s.cache();
        into[at + 1] += s.main();
        into[at + 2] += s.retry();
        into[at + 3] += s.cacheSize();
    }

    /**
     * Where the buffers of each pool are ({@code keel_iobuf_get_pools}): [small, large]. Caches and queues are
     * read on their owner threads; {@code done} runs on the calling lightweight thread.
     */
    public void getPoolUsage(Consumer<List<IoBufPoolUsage>> done) {
        long[] sums = new long[4]; // small cached, small waiting, large cached, large waiting
        device.forEachChannel((it, io) -> {
            IoBufThread ctx = io.context();
            for (IoBufChannel ch : ctx.channels) {
                sums[0] += ch.smallCached();
                sums[2] += ch.largeCached();
            }
            sums[1] += ctx.small.size();
            sums[3] += ctx.large.size();
            it.next(0);
        }, status -> done.accept(List.of(
                new IoBufPoolUsage(smallPool.count, smallPool.bufsize, smallPool.available(), sums[0], sums[1]),
                new IoBufPoolUsage(largePool.count, largePool.bufsize, largePool.available(), sums[2], sums[3]))));
    }

    /**
     * Frees the pools once every channel has been closed (SPDK's {@code spdk_iobuf_finish}); {@code done} runs
     * on the calling lightweight thread. Channels opened meanwhile are refused. If channels are still open
     * after {@value #FINISH_TIMEOUT_MICROS} µs the finish completes anyway, with an error naming them (rule R5),
     * but the pools stay mapped: a buffer still lent may be under an I/O the kernel has not completed, so it is
     * never unmapped under it (the process is ending; its exit frees them). The channels' later gets and puts
     * fail. Buffers not returned by then are reported, as SPDK does. Idempotent: a second call completes with
     * the first.
     */
    public void finish(Runnable done) {
        KeelThread caller = KeelThread.current();
        if (caller == null) {
            throw new IllegalStateException("iobuf must be finished from a lightweight thread");
        }
        switch (state) {
            case FREED -> done.run();
            case FINISHING -> finishCallbacks.add(done);
            case OPEN -> {
                state = State.FINISHING;
                finishCallbacks.add(done);
                finishTimeout = caller.registerPoller("iobuf_finish_timeout", () -> {
                    LOG.error("iobuf: channels still open {} ms after finish began: {}; finishing without unmapping "
                            + "the pools (their buffers may still be under I/O)", FINISH_TIMEOUT_MICROS / 1000,
                            describeChannels());
                    free(false);
                    return PollerFn.BUSY;
                }, FINISH_TIMEOUT_MICROS);
                device.unregister(() -> free(true));
            }
        }
    }

    private void free(boolean unmap) {
        if (state == State.FREED) {
            return;
        }
        state = State.FREED;
        if (finishTimeout != null) {
            finishTimeout.unregister();
        }
        dmaRanges.forEach(DmaMemory::unregister);
        checkReturned(smallPool);
        checkReturned(largePool);
        if (unmap) {
            arena.close();
        }
        List<Runnable> callbacks = new ArrayList<>(finishCallbacks);
        finishCallbacks.clear();
        callbacks.forEach(Runnable::run);
    }

    private static void checkReturned(BufferPool pool) {
        int available = pool.available();
        if (available != pool.count) {
            LOG.error("{} iobuf pool count is {}, expected {}", pool.name, available, pool.count);
        }
    }

    private String describeChannels() {
        StringBuilder sb = new StringBuilder();
        for (IoBufChannel ch : channels.get()) {
            sb.append(sb.isEmpty() ? "" : ", ").append(ch.module()).append(" on ").append(ch.thread().name());
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return "IoBuf[small " + smallPool.count + " x " + smallPool.bufsize + ", large " + largePool.count + " x "
                + largePool.bufsize + "]";
    }
}
