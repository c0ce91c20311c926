package io.keel.core.iobuf;

import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;

/**
 * A caller's place in line for a buffer when none is free (SPDK's {@code spdk_iobuf_entry}). Owned and reused
 * by the caller (typically one per bdev_io or request), so waiting allocates nothing. Pass it to
 * {@link IoBufChannel#get}; if that returns null the waiter is queued, and {@link #bufferReady} later runs on
 * the channel's owner thread with a buffer of the size class asked for. A waiter is in at most one queue at
 * a time; once {@code bufferReady} runs (or {@link IoBufChannel#abort} succeeds) it may be used again.
 */
public abstract class IoBufWaiter {
    IoBufWaiter prev;
    IoBufWaiter next;
    WaitQueue queue;
    IoBufChannel channel;

    /** The buffer the waiter waited for; it now belongs to the caller, who returns it with {@link IoBufChannel#put}. */
    public abstract void bufferReady(MemorySegment buf);

    /** Whether this waiter is queued now. Owner thread of the channel it was queued on. */
    public final boolean isQueued() {
        return queue != null;
    }

    /** A waiter that hands the buffer to {@code fn} (convenient off the hot path; allocates once). */
    public static IoBufWaiter of(Consumer<MemorySegment> fn) {
        return new IoBufWaiter() {
            @Override
            public void bufferReady(MemorySegment buf) {
                fn.accept(buf);
            }
        };
    }
}
