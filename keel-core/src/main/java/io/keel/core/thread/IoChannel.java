package io.keel.core.thread;

/**
 * One thread's handle on an {@link IoDevice}: reference counted, created on first
 * {@link KeelThread#getIoChannel}, released on its thread after the last {@link #put()}. A device may take its
 * time to release the context ({@link ChannelRelease}); meanwhile the channel is RELEASING and the thread still
 * counts as a holder of the device.
 */
public final class IoChannel<C> {
    /** LIVE while referenced, RELEASING while the device releases its context, then RELEASED. */
    public enum Phase { LIVE, RELEASING, RELEASED }

    private final IoDevice<C> device;
    private final KeelThread thread;
    private C context;
    private int refs = 1;
    private Phase phase = Phase.LIVE;
    private long releaseStartedNanos;
    private boolean reportedLate;
    /** Set when the owner thread was forced out while it still held this channel: it will never be released. */
    private volatile boolean abandoned;

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

    /** Releases one reference; the last one schedules the channel's release on its thread. */
    public void put() {
        thread.checkOwner();
        if (refs <= 0) {
            throw new IllegalStateException("io_channel for " + device.name() + " released more often than taken");
        }
        if (--refs == 0) {
            thread.lastReferencePut(this);
        }
    }

    /** Starts releasing the context; {@code onReleased} runs on this thread once the device says it is done. */
    void release(long now, Runnable onReleased) {
        phase = Phase.RELEASING;
        releaseStartedNanos = now;
        boolean[] once = new boolean[1];
        device.releaseContext(context, () -> {
            if (KeelThread.current() != thread) {
                thread.send(Runnable::run, (Runnable) () -> finishRelease(once, onReleased));
            } else {
                finishRelease(once, onReleased);
            }
        });
    }

    private void finishRelease(boolean[] once, Runnable onReleased) {
        if (once[0]) {
            throw new IllegalStateException("io_channel for " + device.name() + " reported released twice");
        }
        once[0] = true;
        phase = Phase.RELEASED;
        context = null;
        onReleased.run();
        device.channelReleased(this);
    }

    void abandon() {
        abandoned = true;
        device.channelAbandoned(this);
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

    public Phase phase() {
        return phase;
    }

    boolean destroyed() {
        return phase != Phase.LIVE;
    }

    boolean abandoned() {
        return abandoned;
    }

    long releaseStartedNanos() {
        return releaseStartedNanos;
    }

    /** True the first time a late release is reported, so it is logged once. */
    boolean markReportedLate() {
        boolean first = !reportedLate;
        reportedLate = true;
        return first;
    }

    /** What this channel is, for logs about holders: the device, the thread, the phase and the context. */
    String describe() {
        C ctx = context;
        return "thread " + thread.name() + (abandoned ? " (exited)" : "") + " " + phase.name().toLowerCase()
                + (ctx == null ? "" : " [" + ctx + "]");
    }
}
