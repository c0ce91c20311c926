package io.keel.vhost.blk;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.Bdev;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevEvent;
import io.keel.bdev.BdevException;
import io.keel.bdev.BdevLayer;
import io.keel.core.mem.NativeArena;
import io.keel.core.rpc.Json;
import io.keel.core.sys.Epoll;
import io.keel.core.sys.Libc;
import io.keel.core.sys.UnixSocket;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.vhost.user.VhostUserConnection;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A vhost-user-blk controller (SPDK's {@code vhost_create_blk_controller}): a bdev served to one QEMU at a time on a
 * listening Unix socket, everything on the controller's own lightweight thread — the socket watched by its reactor,
 * the session's messages and queues, the bdev descriptor and channel. A second connection while a session lives is
 * refused (closed, logged); when the session ends (QEMU went away) everything it held is released and the next
 * connection is taken.
 *
 * <p>States: {@code STARTING} → {@code ACTIVE} → {@code DELETING} → {@code DELETED}. A delete is refused (-EBUSY,
 * as SPDK's "has still valid connection") while a running VM uses the session ({@link VhostUserConnection#inUse});
 * otherwise (rule R4) it stops listening and ends the session: at once when nothing runs, or — when the VM is
 * stopping the device (shutting down) — once QEMU hangs up, at most {@link #HANG_UP_BOUND_NANOS} later (its queues
 * stop, requests drain with a bound, guest memory is unmapped: {@link VhostUserConnection#close}); then it lets go of
 * the channel and descriptor, the thread exits and the callers hear, each once. Nothing waits on a reactor. The
 * application stopping deletes with {@code force}: a running session is ended too. A removed bdev (hot-remove) fails the session's new requests
 * IOERR and the descriptor is closed once those at the bdev finished; the controller stays until deleted, as SPDK's
 * does, and refuses new connections. Methods not named for the owner thread may be called from any thread.
 */
public final class BlkController {
    private static final Logger LOG = LoggerFactory.getLogger(BlkController.class);
    /** Queues a session may have (QEMU's num-queues up to this). */
    public static final int MAX_QUEUES = 16;
    /** SPDK's defaults: no coalescing delay, above 60000 IOPS per queue when there is one. */
    public static final int DEFAULT_DELAY_BASE_US = 0;
    public static final int DEFAULT_IOPS_THRESHOLD = 60_000;
    private static final int BACKLOG = 4;
    /** How long a delete waits for a VM that is stopping its device to hang up before it ends the session itself. */
    public static final long HANG_UP_BOUND_NANOS = 5_000_000_000L;

    public enum State { STARTING, ACTIVE, DELETING, DELETED }

    private final String name;
    private final String bdevName;
    private final boolean readonly;
    private final CpuMask cpumask;
    private final Path socketPath;
    private final KeelThread thread;
    private final BdevLayer layer;
    private volatile State state = State.STARTING;
    private volatile int delayBaseUs = DEFAULT_DELAY_BASE_US;
    private volatile int iopsThreshold = DEFAULT_IOPS_THRESHOLD;
    // owner thread
    private final NativeArena arena = new NativeArena();
    private final MemorySegment callState = Libc.callState(arena);
    private BdevDesc desc;
    private int listenFd = -1;
    private FdWatch listenWatch;
    private VhostUserConnection session;
    /** The session's device: set while a session lives and until it has let go after the session ended. */
    private VirtioBlkDevice device;
    private Poller hangUpWait;
    private long hangUpDeadline;
    private int nextVid;
    private boolean bdevRemoved;
    private final List<IntConsumer> deleted = new ArrayList<>(1);

    /** A controller to be {@link #start}ed on {@code thread}, which it owns from then on and ends when deleted. */
    public BlkController(String name, String bdevName, boolean readonly, CpuMask cpumask, Path socketPath,
            KeelThread thread, BdevLayer layer) {
        this.name = name;
        this.bdevName = bdevName;
        this.readonly = readonly;
        this.cpumask = cpumask;
        this.socketPath = socketPath;
        this.thread = thread;
        this.layer = layer;
    }

    public String name() {
        return name;
    }

    public String bdevName() {
        return bdevName;
    }

    public boolean readonly() {
        return readonly;
    }

    public CpuMask cpumask() {
        return cpumask;
    }

    public Path socketPath() {
        return socketPath;
    }

    public State state() {
        return state;
    }

    public int delayBaseUs() {
        return delayBaseUs;
    }

    public int iopsThreshold() {
        return iopsThreshold;
    }

    /** Interrupt coalescing (vhost_controller_set_coalescing) for the session now and those to come. */
    public void coalescing(int delayBaseUs, int iopsThreshold) {
        this.delayBaseUs = delayBaseUs;
        this.iopsThreshold = iopsThreshold;
        thread.send(() -> {
            if (session != null) {
                applyCoalescing(session);
            }
        });
    }

    private void applyCoalescing(VhostUserConnection s) {
        s.coalescing(delayBaseUs * 1000L, iopsThreshold);
    }

    /**
     * Opens the bdev and listens on the socket (a socket file left there is replaced, as SPDK does); {@code done}
     * hears 0 or {@code -errno} on the controller's thread. A failed start has released what it took and exited
     * the thread.
     */
    public void start(IntConsumer done) {
        thread.send(() -> {
            int rc = open();
            if (rc != 0) {
                state = State.DELETED;
                closeDesc();
                thread.exit(() -> done.accept(rc));
                return;
            }
            state = State.ACTIVE;
            LOG.info("vhost: controller {} serves bdev {} on {}", name, bdevName, socketPath);
            done.accept(0);
        });
    }

    private int open() {
        try {
            desc = layer.open(bdevName, !readonly, (event, bdev) -> onBdevEvent(event, bdev));
        } catch (BdevException e) {
            LOG.error("vhost: controller {}: {}", name, e.getMessage());
            return e.errno();
        }
        String path = socketPath.toString();
        java.io.File f = socketPath.toFile();
        if (f.exists() && !f.delete()) {
            LOG.error("vhost: controller {}: cannot remove {}", name, path);
            return -Libc.EIO;
        }
        int fd = UnixSocket.listen(path, BACKLOG, callState);
        if (fd < 0) {
            LOG.error("vhost: controller {}: cannot listen on {}: {}", name, path, Libc.strerror(-fd));
            return fd;
        }
        listenFd = fd;
        listenWatch = thread.watchFd(fd, Epoll.EPOLLIN, this::onAcceptable).relaxed(); // a front end connecting
        return 0;
    }

    private int onAcceptable(int events) {
        int taken = 0;
        for (int fd; (fd = UnixSocket.accept(listenFd, callState)) >= 0; taken++) {
            if (session != null) {
                LOG.warn("vhost: controller {} refused a connection: one at a time, and session {} is live", name,
                        nextVid - 1);
                Libc.closeQuietly(fd);
            } else if (bdevRemoved) {
                LOG.warn("vhost: controller {} refused a connection: its bdev {} was removed", name, bdevName);
                Libc.closeQuietly(fd);
            } else {
                startSession(fd);
            }
        }
        return taken;
    }

    private void startSession(int fd) {
        assert device == null : "the previous session's device has not let go";
        int vid = nextVid++;
        device = new VirtioBlkDevice(name, desc, readonly, MAX_QUEUES);
        session = new VhostUserConnection(sessionName(vid), thread, fd, device, this::sessionEnded);
        session.start();
        applyCoalescing(session);
        LOG.info("vhost: controller {}: session {} connected", name, sessionName(vid));
    }

    private String sessionName(int vid) {
        return name + "s" + vid;
    }

    /**
     * The session ended (QEMU went, or a delete closed it) and released guest memory: the device lets go next. A
     * connection waiting meanwhile is taken once it has (the listening socket is not watched until then).
     */
    private void sessionEnded() {
        session = null;
        cancelHangUpWait();
        if (listenWatch != null) {
            listenWatch.interest(0);
        }
        device.release(() -> {
            device = null;
            if (bdevRemoved) {
                closeDesc();
            }
            if (state == State.DELETING) {
                finishDelete();
            } else if (listenWatch != null) {
                listenWatch.interest(Epoll.EPOLLIN);
            }
        });
    }

    private void onBdevEvent(BdevEvent event, Bdev bdev) {
        if (event != BdevEvent.REMOVE || bdevRemoved) {
            return;
        }
        LOG.info("vhost: controller {}: bdev {} removed; new requests fail, the controller stays until deleted", name,
                bdevName);
        bdevRemoved = true;
        if (session != null) {
            device.bdevRemoved(this::closeDesc);
        } else if (device == null) {
            closeDesc();
        } // else the ended session's device is letting go, and closes the descriptor when it has
    }

    private void closeDesc() {
        if (desc != null && !desc.closed()) {
            desc.close();
        }
    }

    /**
     * Deletes the controller: {@code done} hears 0 once it is gone (on some thread; at once if it already is), or
     * -EBUSY at once when a running VM uses it and {@code force} is not set. A second delete while one runs hears with
     * the first.
     */
    public void delete(boolean force, IntConsumer done) {
        if (!thread.send(() -> deleteOnThread(force, done))) {
            done.accept(0); // the thread is gone: so is the controller
        }
    }

    private void deleteOnThread(boolean force, IntConsumer done) {
        switch (state) {
            case DELETED -> done.accept(0);
            case DELETING -> deleted.add(done);
            case STARTING, ACTIVE -> {
                if (session != null && !force) {
                    session.catchUp(); // a hang-up or GET_VRING_BASE QEMU already sent counts
                }
                if (session != null && !force && session.inUse()) {
                    LOG.error("vhost: controller {} not deleted: it has still valid connection (session {} is running"
                            + " its VM's I/O); stop the VM or detach its disk first", name, sessionName(nextVid - 1));
                    done.accept(-Libc.EBUSY);
                    return;
                }
                state = State.DELETING;
                deleted.add(done);
                stopListening();
                if (session == null) {
                    if (device == null) {
                        finishDelete();
                    } // else the ended session's device is letting go, and finishes the delete when it has
                } else if (session.stopping() && !force) {
                    awaitHangUp();
                } else {
                    session.close(); // nothing runs, or the application stops: sessionEnded goes on from there
                }
            }
        }
    }

    /** The VM is stopping the device: QEMU hangs up when it is done; a session still there at the bound is ended. */
    private void awaitHangUp() {
        LOG.info("vhost: controller {}: delete waits for its VM, which is stopping the device, to hang up", name);
        hangUpDeadline = thread.runtime().clock().nanoTime() + HANG_UP_BOUND_NANOS;
        hangUpWait = thread.registerPoller(name + "_hang_up_wait", () -> {
            if (session == null || thread.runtime().clock().nanoTime() < hangUpDeadline) {
                return 0;
            }
            LOG.warn("vhost: controller {}: its VM did not hang up within {} ms of the delete: ending the session",
                    name, HANG_UP_BOUND_NANOS / 1_000_000);
            cancelHangUpWait();
            session.close();
            return 1;
        }, 100_000);
    }

    private void cancelHangUpWait() {
        if (hangUpWait != null) {
            hangUpWait.unregister();
            hangUpWait = null;
        }
    }

    private void stopListening() {
        if (listenWatch != null) {
            listenWatch.cancel();
            listenWatch = null;
        }
        if (listenFd >= 0) {
            Libc.closeQuietly(listenFd);
            listenFd = -1;
            if (!socketPath.toFile().delete()) {
                LOG.warn("vhost: controller {}: socket {} was already gone", name, socketPath);
            }
        }
    }

    private void finishDelete() {
        closeDesc();
        state = State.DELETED;
        arena.close();
        List<IntConsumer> callers = List.copyOf(deleted);
        deleted.clear();
        LOG.info("vhost: controller {} deleted", name);
        thread.exit(() -> callers.forEach(c -> c.accept(0)));
    }

    /**
     * SPDK's {@code vhost_get_controllers} entry for this controller, built on its thread (the session's queues are
     * read there) and handed to {@code out}.
     */
    public void describe(Consumer<ObjectNode> out) {
        if (!thread.send(() -> out.accept(describeOnThread()))) {
            out.accept(describeOnThread());
        }
    }

    private ObjectNode describeOnThread() {
        ObjectNode o = Json.object();
        o.put("ctrlr", name);
        o.put("cpumask", "0x" + cpumask);
        o.put("delay_base_us", delayBaseUs);
        o.put("iops_threshold", iopsThreshold);
        o.put("socket", socketPath.toString());
        var sessions = o.putArray("sessions");
        VhostUserConnection s = session;
        if (s != null && state == State.ACTIVE) {
            int maxQueues = 0;
            int inFlight = 0;
            boolean started = false;
            for (int i = 0; i < MAX_QUEUES; i++) {
                if (s.queue(i).started()) {
                    started = true;
                    maxQueues = i + 1;
                }
                inFlight += s.queue(i).inFlight();
            }
            ObjectNode e = sessions.addObject();
            e.put("vid", nextVid - 1);
            e.put("id", 0);
            e.put("name", sessionName(nextVid - 1));
            e.put("started", started);
            e.put("max_queues", maxQueues);
            e.put("inflight_task_cnt", inFlight);
        }
        ObjectNode block = o.putObject("backend_specific").putObject("block");
        block.put("readonly", readonly);
        if (bdevRemoved) {
            block.putNull("bdev");
        } else {
            block.put("bdev", bdevName);
        }
        block.put("transport", "vhost_user_blk");
        return o;
    }
}
