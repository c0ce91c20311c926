package io.keel.core.thread;

/**
 * How an io_device releases one thread's context when that thread's last reference is put: on the owner
 * thread, calling {@code released} (once, on that thread) when nothing of the context is in use any more.
 * A context that must wait (I/O still in flight) keeps running its pollers and calls it later; until then the
 * thread remains a holder of the device, so the device's unregister and the thread's exit wait for it (each
 * bounded, naming the context by its {@code toString}).
 */
@FunctionalInterface
public interface ChannelRelease<C> {
    void release(C context, Runnable released);
}
