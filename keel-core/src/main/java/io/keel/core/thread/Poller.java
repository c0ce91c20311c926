package io.keel.core.thread;

/**
 * A function a lightweight thread calls repeatedly: on every iteration (active, period 0) or every
 * {@code period} (timed). Pause, resume and unregister may be called from the poller's own callback; they
 * take effect when the callback returns. Owner thread only.
 */
public final class Poller {
    /** Poller states, named as SPDK's {@code thread_get_pollers} reports them. */
    public enum State {
        WAITING("waiting"), RUNNING("running"), PAUSED("paused"), UNREGISTERED("unregistered");

        private final String wireName;

        State(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }
    }

    private final KeelThread owner;
    private final String name;
    private final long id;
    private final PollerFn fn;
    private final long periodNanos;
    /** The io_channel whose creation registered this poller (it outlives its thread's exit start), or null. */
    private final IoChannel<?> channel;
    State state = State.WAITING;
    long nextRunNanos;
    boolean inPausedList;
    /** Whether the last run found nothing to do (the simulation uses it to detect quiescence). */
    boolean lastRunIdle;
    private boolean pauseRequested;
    private long runCount;
    private long busyCount;

    Poller(KeelThread owner, String name, long id, PollerFn fn, long periodNanos, IoChannel<?> channel) {
        this.owner = owner;
        this.name = name;
        this.id = id;
        this.fn = fn;
        this.periodNanos = periodNanos;
        this.channel = channel;
    }

    IoChannel<?> channel() {
        return channel;
    }

    /** Runs the callback once and updates the accounting; returns the callback's result. */
    int run() {
        state = State.RUNNING;
        int result;
        try {
            result = fn.poll();
        } catch (RuntimeException | AssertionError e) {
            owner.reportFailure("poller " + name, e);
            result = PollerFn.BUSY;
        }
        runCount++;
        lastRunIdle = result <= 0;
        if (result > 0) {
            busyCount++;
        }
        if (state == State.RUNNING) {
            state = State.WAITING;
            if (pauseRequested) {
                owner.pausePoller(this);
            }
        }
        pauseRequested = false;
        return result;
    }

    /** Stops calling this poller until {@link #resume()}. */
    public void pause() {
        owner.checkOwner();
        switch (state) {
            case RUNNING -> pauseRequested = true;
            case WAITING -> owner.pausePoller(this);
            default -> { }
        }
    }

    /** Calls this poller again after a {@link #pause()}; a timed poller's period restarts now. */
    public void resume() {
        owner.checkOwner();
        if (state == State.RUNNING) {
            pauseRequested = false;
        } else if (state == State.PAUSED) {
            owner.resumePoller(this);
        }
    }

    /** Stops this poller for good. Idempotent. */
    public void unregister() {
        owner.checkOwner();
        if (state != State.UNREGISTERED) {
            owner.unregisterPoller(this);
        }
    }

    public String name() {
        return name;
    }

    public long id() {
        return id;
    }

    public boolean timed() {
        return periodNanos > 0;
    }

    public long periodNanos() {
        return periodNanos;
    }

    public State state() {
        return state;
    }

    public long runCount() {
        return runCount;
    }

    public long busyCount() {
        return busyCount;
    }

    public KeelThread owner() {
        return owner;
    }
}
