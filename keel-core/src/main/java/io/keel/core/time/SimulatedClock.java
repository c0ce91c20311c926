package io.keel.core.time;

/** Simulated time: it moves only when the simulation moves it. Single OS thread. */
public final class SimulatedClock implements Clock {
    private long now;

    public SimulatedClock(long start) {
        this.now = start;
    }

    @Override
    public long nanoTime() {
        return now;
    }

    public void advance(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("time cannot go back");
        }
        now += nanos;
    }

    public void advanceTo(long t) {
        now = Math.max(now, t);
    }
}
