package io.keel.bdev.delay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoCallback;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.IoType;
import io.keel.bdev.VirtualBdev;
import io.keel.bdev.VirtualBdevChannel;
import io.keel.core.rpc.Json;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import io.keel.core.time.Clock;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A delay bdev (SPDK's {@code vbdev_delay}): passes I/O to its base and, when a read or a write comes back,
 * holds it for a latency before completing it: the average latency for most, the p99 latency for about one in
 * a hundred (a per-thread seeded generator, so a simulation replays the same choices). Other types complete as
 * soon as the base completes them. Latencies change at runtime ({@code bdev_delay_update_latency}); as in SPDK,
 * each of the four queues (avg/p99 x read/write) releases in order, so lowering a latency lets new I/O wait
 * behind older I/O until those are done.
 *
 * <p>Time is the framework clock. Held I/O is released by one of two pollers on the submitting thread: a timed
 * poller while the next deadline is far (the reactor may sleep meanwhile), an active one within
 * {@link #SPIN_WINDOW_NS} of it (precise release); both pause when nothing is held (the active one after
 * {@link #SPIN_LINGER_POLLS} idle runs). A RESET aborts every held
 * I/O on every thread, then goes to the base.
 */
final class DelayBdev extends VirtualBdev {
    /** Within this of the next deadline the active poller takes over from the timed one. */
    static final long SPIN_WINDOW_NS = 200_000;
    static final long TIMED_PERIOD_US = 100;
    /**
     * Idle runs of the active poller before it pauses: under load the queues empty and refill all the time, and
     * pausing and resuming a poller each time costs the thread more (its poller lists are rebuilt) than this.
     */
    static final int SPIN_LINGER_POLLS = 256;
    /** Longer latencies are this (decades), so that deadlines compared by subtraction never wrap. */
    private static final long MAX_LATENCY_NS = Long.MAX_VALUE / 4;

    private static final BdevIoCallback CHILD_DONE = DelayBdev::childDone;
    /** Queues, which are also the values of {@link BdevIo#moduleValue} until the base completes the I/O. */
    private static final int AVG_READ = 0;
    private static final int P99_READ = 1;
    private static final int AVG_WRITE = 2;
    private static final int P99_WRITE = 3;
    private static final int UNDELAYED = 4;

    /** Per queue: microseconds as configured (save_config), and nanoseconds (the I/O path); set on the app thread. */
    private final AtomicLongArray latencyUs = new AtomicLongArray(4);
    private final AtomicLongArray latencyNs = new AtomicLongArray(4);

    DelayBdev(DelayModule module, String name, UUID uuid, BdevDesc base, long avgReadUs, long p99ReadUs,
            long avgWriteUs, long p99WriteUs) {
        super(module, name, uuid, "delay", base);
        latency(AVG_READ, avgReadUs);
        latency(P99_READ, p99ReadUs);
        latency(AVG_WRITE, avgWriteUs);
        latency(P99_WRITE, p99WriteUs);
    }

    // ---- latencies ----

    /** Sets a latency (application thread); the I/O threads use it for the I/O they hold from now on. */
    void latency(LatencyType type, long us) {
        latency(type.ordinal(), us);
    }

    private void latency(int queue, long us) {
        latencyUs.set(queue, us);
        latencyNs.set(queue, Math.min(us, MAX_LATENCY_NS / 1000) * 1000);
    }

    long latencyUs(LatencyType type) {
        return latencyUs.get(type.ordinal());
    }

    // ---- per-thread context ----

    @Override
    protected VirtualBdevChannel newChannel(KeelThread t) {
        return new DelayChannel(this, t, name().hashCode());
    }

    /** One thread's context: its base channel, the four queues of held I/O, and the pollers that release them. */
    static final class DelayChannel extends VirtualBdevChannel {
        private final Clock clock;
        private final BdevIo[] heads = new BdevIo[4];
        private final BdevIo[] tails = new BdevIo[4];
        private final Poller spin;
        private final Poller tick;
        private boolean spinning;
        private boolean ticking;
        private int held;
        private int idleSpins;
        private long random;

        DelayChannel(DelayBdev bdev, KeelThread t, long seed) {
            super(bdev);
            this.clock = t.runtime().clock();
            this.random = seed * 0x9E3779B97F4A7C15L + t.id() | 1; // xorshift needs a non-zero state
            this.spin = t.registerPoller("delay_release", this::release);
            this.spin.pause();
            this.tick = t.registerPoller("delay_release_timed", this::release, TIMED_PERIOD_US);
            this.tick.pause();
        }

        /** About one call in a hundred says yes (xorshift64). */
        boolean p99() {
            long x = random;
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            random = x;
            return Long.remainderUnsigned(x, 100) == 0;
        }

        void hold(int queue, BdevIo io, long deadline) {
            io.moduleValue = deadline;
            io.moduleNext = null;
            if (tails[queue] == null) {
                heads[queue] = io;
            } else {
                tails[queue].moduleNext = io;
            }
            tails[queue] = io;
            held++;
            schedule(clock.nanoTime());
        }

        /** Both pollers' body: completes every I/O whose time has come, each queue in order. */
        private int release() {
            long now = clock.nanoTime();
            int released = 0;
            for (int q = 0; q < 4; q++) {
                BdevIo io = heads[q];
                while (io != null && io.moduleValue - now <= 0) {
                    BdevIo next = io.moduleNext;
                    heads[q] = next;
                    if (next == null) {
                        tails[q] = null;
                    }
                    held--;
                    io.moduleNext = null;
                    finish(io, null);
                    released++;
                    io = next;
                }
            }
            schedule(now);
            return released > 0 ? PollerFn.BUSY : PollerFn.IDLE;
        }

        /** Runs the poller that fits the next deadline, or none when nothing is held. */
        private void schedule(long now) {
            boolean wantSpin;
            boolean wantTick;
            if (held == 0) {
                wantSpin = spinning && ++idleSpins < SPIN_LINGER_POLLS;
                wantTick = false;
            } else {
                idleSpins = 0;
                long soonest = Long.MAX_VALUE; // time left until the earliest head's deadline
                for (int q = 0; q < 4; q++) {
                    if (heads[q] != null) {
                        soonest = Math.min(soonest, heads[q].moduleValue - now);
                    }
                }
                wantSpin = soonest <= SPIN_WINDOW_NS;
                wantTick = !wantSpin;
            }
            if (wantSpin != spinning) {
                spinning = wantSpin;
                if (wantSpin) {
                    spin.resume();
                } else {
                    spin.pause();
                }
            }
            if (wantTick != ticking) {
                ticking = wantTick;
                if (wantTick) {
                    tick.resume();
                } else {
                    tick.pause();
                }
            }
        }

        /** Completes every held I/O ABORTED (a reset, or the context going away). */
        void abortAll() {
            for (int q = 0; q < 4; q++) {
                BdevIo io = heads[q];
                heads[q] = null;
                tails[q] = null;
                while (io != null) {
                    BdevIo next = io.moduleNext;
                    io.moduleNext = null;
                    held--;
                    finish(io, BdevIoStatus.ABORTED);
                    io = next;
                }
            }
            schedule(clock.nanoTime());
        }

        @Override
        protected void onDestroy() {
            abortAll(); // never lose an I/O, even one whose user let its channel go first
            spin.unregister();
            tick.unregister();
        }
    }

    // ---- I/O ----

    @Override
    protected void submit(BdevIo io) {
        DelayChannel ch = io.moduleChannel();
        if (io.type() == IoType.RESET) {
            reset(io);
            return;
        }
        int queue = UNDELAYED;
        if (io.type() == IoType.READ) {
            queue = ch.p99() ? P99_READ : AVG_READ;
        } else if (io.type() == IoType.WRITE) {
            queue = ch.p99() ? P99_WRITE : AVG_WRITE;
        }
        passDown(io, queue);
    }

    private void passDown(BdevIo io, int queue) {
        io.moduleValue = queue;
        forward(0, io, CHILD_DONE);
    }

    /** The base finished: hold a read or write for its latency (keeping the child for its status), else complete. */
    private static void childDone(BdevIo child, boolean success, Object arg) {
        BdevIo parent = (BdevIo) arg;
        int queue = (int) parent.moduleValue;
        parent.moduleContext = child;
        if (queue == UNDELAYED) {
            finish(parent, null);
            return;
        }
        DelayBdev bdev = (DelayBdev) parent.bdev();
        DelayChannel ch = parent.moduleChannel();
        ch.hold(queue, parent, ch.clock.nanoTime() + bdev.latencyNs.get(queue));
    }

    /** Completes {@code parent} as its child ended (or with {@code status} if given) and frees the child. */
    private static void finish(BdevIo parent, BdevIoStatus status) {
        BdevIo child = (BdevIo) parent.moduleContext;
        parent.moduleContext = null;
        if (status == null) {
            completeFromChild(parent, child);
        } else {
            child.free();
            parent.complete(status);
        }
    }

    /** As SPDK: every thread aborts what it holds, then the reset goes to the base from the submitting thread. */
    private void reset(BdevIo resetIo) {
        forEachContext(ch -> ((DelayChannel) ch).abortAll(), () -> passDown(resetIo, UNDELAYED));
    }

    @Override
    public JsonNode driverSpecific() {
        ObjectNode o = Json.object();
        writeParams(o.putObject("delay"));
        return o;
    }

    /** The parameters of {@code bdev_delay_create} that recreate this bdev, latencies as they are now. */
    ObjectNode createParams() {
        ObjectNode p = Json.object();
        writeParams(p);
        return p;
    }

    private void writeParams(ObjectNode p) {
        p.put("name", name());
        p.put("base_bdev_name", base(0).bdev().name());
        p.put("uuid", uuid().toString());
        p.put("avg_read_latency", latencyUs(LatencyType.AVG_READ));
        p.put("p99_read_latency", latencyUs(LatencyType.P99_READ));
        p.put("avg_write_latency", latencyUs(LatencyType.AVG_WRITE));
        p.put("p99_write_latency", latencyUs(LatencyType.P99_WRITE));
    }
}
