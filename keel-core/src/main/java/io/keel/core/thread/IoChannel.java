package io.keel.core.thread;

/**
 * One thread's handle on an {@link IoDevice}: reference counted, created on first
 * {@link KeelThread#getIoChannel}, destroyed on its thread after the last {@link #put()}.
 */
public final class IoChannel<C> {
    private final IoDevice<C> device;
    private final KeelThread thread;
    private C context;
    private int refs = 1;
    private boolean destroyed;

    IoChannel(IoDevice<C> device, KeelThread thread) {
        this.device = device;
        this.thread = thread;
    }

    void create() {
        context = device.createContext(thread);
    }

    void ref() {
        refs++;
    }

    /** Releases one reference; the last one schedules the channel's destruction on its thread. */
    public void put() {
        thread.checkOwner();
        if (refs <= 0) {
            throw new IllegalStateException("io_channel for " + device.name() + " released more often than taken");
        }
        if (--refs == 0) {
            thread.channelReleased(this);
        }
    }

    void destroy() {
        destroyed = true;
        device.destroyContext(context);
        context = null;
        device.channelDestroyed(thread);
    }

    /** The per-thread context made by the device's create callback. Owner thread only. */
    public C context() {
        return context;
    }

    public IoDevice<C> device() {
        return device;
    }

    public KeelThread thread() {
        return thread;
    }

    public int refs() {
        return refs;
    }

    boolean destroyed() {
        return destroyed;
    }
}
