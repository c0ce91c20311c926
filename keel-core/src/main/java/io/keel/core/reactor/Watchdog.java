package io.keel.core.reactor;

import io.keel.core.thread.KeelThread;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports any reactor iteration that runs longer than a bound, with the stack of the reactor's OS thread
 * at the moment it was caught (rule R3). It observes; it never interrupts. It runs on its own daemon
 * thread and reads real time, as a stall is a real-time fact.
 */
public final class Watchdog {
    private static final Logger LOG = LoggerFactory.getLogger(Watchdog.class);

    /** One stall: which reactor, which lightweight thread, how long so far, and where it was. */
    public record Stall(int core, String threadName, long millis, StackTraceElement[] stack) {
        public String describe() {
            StringBuilder sb = new StringBuilder();
            sb.append("reactor_").append(core).append(" stalled for ").append(millis).append(" ms in thread ")
                    .append(threadName);
            for (StackTraceElement e : stack) {
                sb.append("\n\tat ").append(e);
            }
            return sb.toString();
        }
    }

    private final List<Reactor> reactors;
    private final long boundNanos;
    private final Thread thread;
    private final List<Consumer<Stall>> listeners = new CopyOnWriteArrayList<>();
    private final long[] reportedIteration;
    private volatile boolean running = true;

    Watchdog(List<Reactor> reactors, long boundMillis) {
        this.reactors = reactors;
        this.boundNanos = boundMillis * 1_000_000;
        this.reportedIteration = new long[reactors.size()];
        this.thread = new Thread(this::run, "keel-watchdog");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    void stop() {
        running = false;
        thread.interrupt();
    }

    void addListener(Consumer<Stall> l) {
        listeners.add(l);
    }

    private void run() {
        long checkEveryMillis = Math.max(1, boundNanos / 4_000_000);
        while (running) {
            try {
                Thread.sleep(checkEveryMillis);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (int i = 0; i < reactors.size(); i++) {
                check(i, reactors.get(i), now);
            }
        }
    }

    private void check(int index, Reactor r, long now) {
        long started = r.iterationStart();
        if (started == 0 || now - started < boundNanos || reportedIteration[index] == started) {
            return;
        }
        reportedIteration[index] = started; // one report per stalled iteration
        KeelThread t = r.polling();
        Stall stall = new Stall(r.core(), t == null ? "(none)" : t.name(), (now - started) / 1_000_000,
                r.osThread().getStackTrace());
        LOG.error("watchdog: {}", stall.describe());
        for (Consumer<Stall> l : listeners) {
            l.accept(stall);
        }
    }
}
