package io.keel.core.iobuf;

import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A module's handle on the pools from one lightweight thread (SPDK's {@code spdk_iobuf_channel}), with a
 * cache of small and of large buffers in front of the global pools. Made by {@link IoBuf#channel} on its
 * owner thread; every method is for the owner thread only (rule R1), and get and put allocate nothing.
 *
 * <p>Buffers are whole pool buffers: {@link #get} returns a segment of the pool's buffer size (at least the
 * length asked for), 4096-aligned; slice it if you need exactly {@code length} bytes. {@link #put} takes a
 * buffer from any channel of the same {@link IoBuf} (on any thread), or any slice of one, and finds its pool
 * by address.
 */
public final class IoBufChannel implements AutoCloseable {
    private static final VarHandle FLUSH_PENDING;

    static {
        try {
            FLUSH_PENDING = MethodHandles.lookup().findVarHandle(IoBufChannel.class, "flushPending", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final IoBuf iobuf;
    private final IoBufThread ctx;
    private final IoChannel<IoBufThread> ioChannel;
    private final String module;
    private final Cache small;
    private final Cache large;
    /** Waiters of this channel in its thread's queues. */
    int waiting;
    private boolean closed;
    /** A request to give cached buffers back to the pool is on its way to the owner thread. */
    @SuppressWarnings("unused") // through FLUSH_PENDING
    private volatile boolean flushPending;

    IoBufChannel(IoBuf iobuf, IoChannel<IoBufThread> ioChannel, String module, int smallCacheSize, int largeCacheSize) {
        this.iobuf = iobuf;
        this.ioChannel = ioChannel;
        this.ctx = ioChannel.context();
        this.module = module;
        this.small = new Cache(iobuf.smallPool, smallCacheSize);
        this.large = new Cache(iobuf.largePool, largeCacheSize);
    }

    /**
     * A buffer of at least {@code length} bytes: small if {@code length <= small_bufsize}, large if
     * {@code length <= large_bufsize}. Served from this channel's cache, else from the global pool; if both
     * are empty (or waiters of this thread are already queued for that size, who come first) it returns null
     * and, if {@code waiter} is not null, queues it: its {@link IoBufWaiter#bufferReady} then runs later on
     * this thread, in FIFO order per thread and size.
     *
     * @throws IllegalArgumentException if {@code length} is negative or larger than the large buffer size
     * @throws IllegalStateException    off the owner thread, on a closed channel, or for a waiter already queued
     */
    public MemorySegment get(long length, IoBufWaiter waiter) {
        checkUsable();
        Cache c = cacheFor(length);
        WaitQueue q = c == small ? ctx.small : ctx.large;
        if (q.isEmpty()) {
            int index = c.pop();
            if (index >= 0) {
                c.cacheGets++;
            } else {
                index = c.pool.take();
                if (index >= 0) {
                    c.mainGets++;
                }
            }
            if (index >= 0) {
                c.pool.handOut(index);
                return c.pool.buffers[index];
            }
        }
        if (waiter != null) {
            if (waiter.queue != null) {
                throw new IllegalStateException("this iobuf waiter is already queued");
            }
            waiter.channel = this;
            q.add(waiter);
            waiting++;
            c.retries++;
            ctx.waiterQueued();
        }
        return null;
    }

    /**
     * Returns a buffer (one from {@link #get} on any channel of this iobuf, or a slice of one). It goes to
     * the oldest waiter of this thread for that size if there is one (whose callback runs now, inside this
     * call), else into this channel's cache, else (cache full, or some thread waits for that size) to the
     * global pool.
     *
     * @throws IllegalArgumentException if {@code buf} is not an iobuf buffer of this instance
     * @throws IllegalStateException    off the owner thread, on a closed channel, or if the buffer was already put
     */
    public void put(MemorySegment buf) {
        checkUsable();
        BufferPool pool = iobuf.smallPool;
        int index = pool.indexOf(buf);
        if (index < 0) {
            pool = iobuf.largePool;
            index = pool.indexOf(buf);
            if (index < 0) {
                throw new IllegalArgumentException("not an iobuf buffer: " + buf);
            }
        }
        if (!pool.takeBack(index)) {
            throw new IllegalStateException(pool.name + " iobuf buffer " + index + " put twice (or never handed out)");
        }
        WaitQueue q = pool == iobuf.smallPool ? ctx.small : ctx.large;
        if (!q.isEmpty()) {
            IoBufThread.deliver(pool, index, q.removeFirst());
            return;
        }
        Cache c = pool == iobuf.smallPool ? small : large;
        if (pool.starvingThreads.get() != 0 || !c.push(index)) {
            pool.give(index);
        }
    }

    /**
     * Withdraws a waiter queued by this channel. Returns false if it is not queued here (never queued, already
     * served, already aborted, or queued by another channel).
     */
    public boolean abort(IoBufWaiter w) {
        checkOwner();
        if (w.queue == null || w.channel != this) {
            return false;
        }
        w.queue.remove(w);
        w.channel = null;
        waiting--;
        return true;
    }

    /**
     * Closes the channel: its cached buffers go back to the global pool and it releases its io_channel.
     * Refuses (IllegalStateException, nothing changed) while waiters of this channel are queued: abort them
     * first, since silently dropping one would leave its request hanging. Buffers handed out earlier may still
     * be put on any other channel. Idempotent.
     */
    @Override
    public void close() {
        checkOwner();
        if (closed) {
            return;
        }
        if (waiting > 0) {
            throw new IllegalStateException("iobuf channel of module " + module + " on thread " + ctx.thread.name()
                    + " has " + waiting + " waiter(s) queued: abort them before closing");
        }
        closed = true;
        if (!iobuf.isFreed()) {
            small.drainTo(small.pool);
            large.drainTo(large.pool);
        }
        ctx.channels.remove(this);
        iobuf.channelClosed(this);
        ioChannel.put();
    }

    /** Gives this channel's cached buffers of a pool some thread waits for back to the pool. Owner thread. */
    static void flush(IoBufChannel ch) {
        FLUSH_PENDING.setVolatile(ch, false);
        if (ch.closed || ch.iobuf.isFreed()) {
            return;
        }
        ch.small.drainIfStarving();
        ch.large.drainIfStarving();
    }

    /** Claims the right to send this channel a flush request; false if one is already on its way. */
    boolean claimFlush() {
        return FLUSH_PENDING.compareAndSet(this, false, true);
    }

    void flushNotSent() {
        FLUSH_PENDING.setVolatile(this, false);
    }

    private Cache cacheFor(long length) {
        if (length < 0) {
            throw new IllegalArgumentException("negative iobuf length " + length);
        }
        if (length <= small.pool.bufsize) {
            return small;
        }
        if (length <= large.pool.bufsize) {
            return large;
        }
        throw new IllegalArgumentException("iobuf length " + length + " exceeds large_bufsize " + large.pool.bufsize);
    }

    Cache cacheOf(BufferPool pool) {
        return pool == small.pool ? small : large;
    }

    private void checkUsable() {
        checkOwner();
        if (closed) {
            throw new IllegalStateException("iobuf channel of module " + module + " is closed");
        }
        if (iobuf.isFreed()) {
            throw new IllegalStateException("iobuf has been finished: its buffers are gone");
        }
    }

    private void checkOwner() {
        if (KeelThread.current() != ctx.thread) {
            KeelThread t = KeelThread.current();
            throw new IllegalStateException("iobuf channel of module " + module + " belongs to thread "
                    + ctx.thread.name() + ", not " + (t == null ? "OS thread " + Thread.currentThread().getName() : t.name()));
        }
    }

    public String module() {
        return module;
    }

    public KeelThread thread() {
        return ctx.thread;
    }

    public boolean isClosed() {
        return closed;
    }

    public int smallCacheSize() {
        return small.cacheSize;
    }

    public int largeCacheSize() {
        return large.cacheSize;
    }

    /** Buffers in this channel's small cache now. Owner thread. */
    public int smallCached() {
        return small.count;
    }

    /** Buffers in this channel's large cache now. Owner thread. */
    public int largeCached() {
        return large.count;
    }

    /** Waiters of this channel queued now. Owner thread. */
    public int queuedWaiters() {
        return waiting;
    }

    /** This channel's small-pool counters ({@code iobuf_get_stats}). Owner thread. */
    public IoBufPoolStats smallStats() {
        return small.stats();
    }

    /** This channel's large-pool counters ({@code iobuf_get_stats}). Owner thread. */
    public IoBufPoolStats largeStats() {
        return large.stats();
    }

    /** A channel's cache of one pool's buffers: a LIFO stack of indices (the warmest buffer is reused first). */
    static final class Cache {
        private static final VarHandle COUNT;

        static {
            try {
                COUNT = MethodHandles.lookup().findVarHandle(Cache.class, "count", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final BufferPool pool;
        final int cacheSize;
        private final int[] slots;
        /** Written by the owner (opaque, so that other threads' hints see it); read by others with {@link #countHint}. */
        int count;
        long cacheGets;
        long mainGets;
        long retries;

        Cache(BufferPool pool, int cacheSize) {
            if (cacheSize < 0) {
                throw new IllegalArgumentException("negative iobuf cache size " + cacheSize);
            }
            this.pool = pool;
            this.cacheSize = cacheSize;
            this.slots = new int[Math.min(cacheSize, pool.count)];
        }

        int pop() {
            int n = count;
            if (n == 0) {
                return -1;
            }
            COUNT.setOpaque(this, n - 1);
            return slots[n - 1];
        }

        boolean push(int index) {
            int n = count;
            if (n == slots.length) {
                return false;
            }
            slots[n] = index;
            COUNT.setOpaque(this, n + 1);
            return true;
        }

        void drainTo(BufferPool p) {
            for (int index = pop(); index >= 0; index = pop()) {
                p.give(index);
            }
        }

        void drainIfStarving() {
            if (pool.starvingThreads.get() != 0) {
                drainTo(pool);
            }
        }

        /** The count as another thread may read it: a hint, possibly stale. */
        int countHint() {
            return (int) COUNT.getOpaque(this);
        }

        IoBufPoolStats stats() {
            return new IoBufPoolStats(cacheGets, mainGets, retries, cacheSize);
        }
    }
}
