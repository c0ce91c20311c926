package io.keel.vhost.user;

import static io.keel.vhost.user.VhostUserRequest.GET_CONFIG;
import static io.keel.vhost.user.VhostUserRequest.GET_FEATURES;
import static io.keel.vhost.user.VhostUserRequest.GET_INFLIGHT_FD;
import static io.keel.vhost.user.VhostUserRequest.GET_PROTOCOL_FEATURES;
import static io.keel.vhost.user.VhostUserRequest.GET_QUEUE_NUM;
import static io.keel.vhost.user.VhostUserRequest.GET_STATUS;
import static io.keel.vhost.user.VhostUserRequest.GET_VRING_BASE;
import static io.keel.vhost.user.VhostUserRequest.SET_PROTOCOL_FEATURES;

import io.keel.core.mem.NativeArena;
import io.keel.core.sys.Epoll;
import io.keel.core.sys.EventFd;
import io.keel.core.sys.Libc;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.vhost.memory.GuestMemory;
import io.keel.vhost.virtio.VirtioFeatures;
import io.keel.vhost.virtio.Virtqueue;
import java.lang.foreign.MemorySegment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The back end of one vhost-user session: the front end's (QEMU's) messages on a non-blocking Unix socket, watched
 * by the owner lightweight thread's reactor ({@link KeelThread#watchFd}) and handled as they arrive, in order; the
 * device's queues polled on the same thread. Messages are handled by {@link MessageHandlers}; this class owns the
 * socket, the states, the queues and what they hold.
 *
 * <p>States ({@link State}): {@code AWAITING_OWNER} (only the feature and queue-count questions QEMU asks first are
 * answered, and nothing is allocated for the peer: rule R10) → SET_OWNER → {@code READY} ⇄ {@code DRAINING} (a
 * GET_VRING_BASE waits until the stopped queue's requests completed, at most {@link #DRAIN_BOUND_NANOS}; no message is
 * read meanwhile) → {@link #close}, the peer hanging up or a malformed message → {@code CLOSING} (the socket is closed
 * at once, queues stop, in-flight requests drain, bounded) → {@code CLOSED}, reported once.
 *
 * <p>Guest memory (rule R10): a new memory table is mapped before the old one is let go; running queues read their
 * rings through the new one at once, and the old one is unmapped when the last request pointing into it completes.
 * At the end the tables are unmapped only after every request drained; a session whose requests never complete
 * leaves its memory mapped (logged) rather than unmap it under them. Owner thread only.
 */
public final class VhostUserConnection {
    private static final Logger LOG = LoggerFactory.getLogger(VhostUserConnection.class);
    /** Queue sizes go up to QEMU's VIRTQUEUE_MAX_SIZE; requests are pooled per descriptor. */
    public static final int MAX_QUEUE_SIZE = 1024;
    /** How long a stop (GET_VRING_BASE, close) waits for in-flight requests. */
    public static final long DRAIN_BOUND_NANOS = 5_000_000_000L;
    private static final int MESSAGES_PER_WAKEUP = 16;
    private static final int POLL_BUDGET = 32;

    public enum State { AWAITING_OWNER, READY, DRAINING, CLOSING, CLOSED }

    final String name;
    final KeelThread thread;
    final VhostUserDevice device;
    final int socket;
    final NativeArena arena = new NativeArena();
    final MemorySegment callState = Libc.callState(arena);
    private final MemorySegment kickCount = arena.allocate(EventFd.COUNT_BYTES, 8);
    final MessageReader reader = new MessageReader(arena);
    final ReplyWriter writer = new ReplyWriter(arena);
    final Virtqueue[] queues;
    /** One past the highest queue started since the last reset: the queue poller looks at these only. */
    private int queuesInUse;
    final VringFds[] fds;
    private final MessageHandlers handlers = new MessageHandlers(this);
    private final Runnable onClosed;
    State state = State.AWAITING_OWNER;
    long features;
    long protocolFeatures;
    int status;
    GuestMemory memory;
    InflightRegion inflight;
    private FdWatch socketWatch;
    private Poller queuePoller;
    private Poller waitPoller;
    private Poller coalescingPoller;
    private int drainingQueue;
    private long waitDeadline;
    /** The front end stopped a running queue (GET_VRING_BASE) and started none since: its VM is stopping the device. */
    private boolean stopping;

    /**
     * A session on {@code socket} (a connected, non-blocking Unix stream socket, now owned by the connection) for
     * {@code device}, run by {@code thread}; {@code onClosed} runs once on it when the session has ended and released
     * what it held. Call {@link #start} on {@code thread}.
     */
    public VhostUserConnection(String name, KeelThread thread, int socket, VhostUserDevice device, Runnable onClosed) {
        this.name = name;
        this.thread = thread;
        this.socket = socket;
        this.device = device;
        this.onClosed = onClosed;
        queues = new Virtqueue[device.maxQueues()];
        fds = new VringFds[queues.length];
        for (int i = 0; i < queues.length; i++) {
            queues[i] = new Virtqueue(name, i, device.maxSegments(), arena);
            queues[i].polled(thread.runtime().pollsContinuously());
            fds[i] = new VringFds();
        }
    }

    /** Starts reading messages and polling queues. Owner thread. */
    public void start() {
        socketWatch = thread.watchFd(socket, Epoll.EPOLLIN, this::onSocketReady).relaxed(); // control messages
        queuePoller = thread.registerPoller(name + "_queues", this::pollQueues);
    }

    public State state() {
        return state;
    }

    /** The virtio features the front end acknowledged (SET_FEATURES). */
    public long negotiatedFeatures() {
        return features;
    }

    /** The protocol features the front end acknowledged (SET_PROTOCOL_FEATURES). */
    public long negotiatedProtocolFeatures() {
        return protocolFeatures;
    }

    /**
     * Whether a running VM uses the session: a queue runs and the front end is not stopping the device. A session
     * that is {@link #stopping}, has no queue started, or is ending is not in use.
     */
    public boolean inUse() {
        return (state == State.AWAITING_OWNER || state == State.READY) && !stopping && anyQueueStarted();
    }

    /** The front end has begun stopping the device (a VM shutting down or resetting it): no queue started since. */
    public boolean stopping() {
        return stopping;
    }

    /**
     * Handles what the front end has already sent (messages, a hang-up) now rather than at the next wake-up, so a
     * decision taken next sees the session as the front end left it. Owner thread; reads without waiting.
     */
    public void catchUp() {
        if (state == State.AWAITING_OWNER || state == State.READY) {
            onSocketReady(Epoll.EPOLLIN);
        }
    }

    /** Queue {@code i} (whether or not it runs). */
    public Virtqueue queue(int i) {
        return queues[i];
    }

    /** The features offered on GET_FEATURES: the device's, the ring's and the transport's. */
    long offeredFeatures() {
        return device.deviceFeatures() | VirtioFeatures.bit(VirtioFeatures.VERSION_1)
                | VirtioFeatures.bit(VirtioFeatures.RING_INDIRECT_DESC)
                | VirtioFeatures.bit(VirtioFeatures.RING_EVENT_IDX)
                | VirtioFeatures.bit(ProtocolFeatures.VHOST_USER_F_PROTOCOL_FEATURES);
    }

    private int onSocketReady(int events) {
        if (state == State.DRAINING && (events & (Epoll.EPOLLHUP | Epoll.EPOLLERR)) != 0) {
            LOG.info("{}: the front end hung up while a queue drained", name); // epoll reports it even with no interest
            close();
            return 1;
        }
        int handled = 0;
        while (handled < MESSAGES_PER_WAKEUP && (state == State.AWAITING_OWNER || state == State.READY)) {
            switch (reader.read(socket, callState)) {
                case AGAIN -> {
                    return handled;
                }
                case CLOSED -> {
                    LOG.info("{}: {}", name, reader.problem());
                    close();
                    return handled + 1;
                }
                case MALFORMED -> {
                    LOG.error("{}: malformed message, closing the connection: {}", name, reader.problem());
                    close();
                    return handled + 1;
                }
                case MESSAGE -> {
                    handled++;
                    VhostUserMessage m = reader.message();
                    if (state == State.AWAITING_OWNER && !answeredBeforeOwner(m.request())) {
                        handlers.refuse(m, "it came before SET_OWNER");
                    } else {
                        handlers.handle(m);
                    }
                    reader.finish();
                }
            }
        }
        return handled;
    }

    /** What QEMU asks before SET_OWNER: questions that allocate nothing. */
    private static boolean answeredBeforeOwner(int request) {
        return request == GET_FEATURES || request == GET_PROTOCOL_FEATURES || request == SET_PROTOCOL_FEATURES
                || request == GET_QUEUE_NUM || request == GET_CONFIG || request == GET_STATUS
                || request == VhostUserRequest.SET_OWNER;
    }

    private int pollQueues() {
        long now = thread.pollerNanos();
        int work = 0;
        for (int i = 0; i < queuesInUse; i++) { // not all the device offers: a driver uses its first ones
            Virtqueue q = queues[i];
            work += q.poll(device, POLL_BUDGET);
            work += q.signalIfDue(now);
        }
        return work;
    }

    /**
     * Interrupt coalescing for every queue ({@link Virtqueue#coalescing}); while on, a timed poller delivers the
     * calls it held back, so a guest that waits for one is never left without it. Owner thread.
     */
    public void coalescing(long delayBaseNanos, int iopsThreshold) {
        for (Virtqueue q : queues) {
            q.coalescing(delayBaseNanos, iopsThreshold);
        }
        if (coalescingPoller != null) {
            coalescingPoller.unregister();
            coalescingPoller = null;
        }
        if (delayBaseNanos > 0 && state != State.CLOSING && state != State.CLOSED) {
            coalescingPoller = thread.registerPoller(name + "_coalescing", this::deliverHeldBackCalls,
                    Math.max(10, delayBaseNanos / 2000));
        }
    }

    private int deliverHeldBackCalls() {
        long now = thread.pollerNanos();
        int work = 0;
        for (Virtqueue q : queues) {
            if (q.callHeldBack()) {
                work += q.signalIfDue(now);
            }
        }
        return work;
    }

    /** SET_VRING_KICK: starts queue {@code i} if it has all it needs (a running one keeps running); watches the fd. */
    void startQueue(int i) {
        Virtqueue q = queues[i];
        if (q.started()) {
            watchKick(i);
            return;
        }
        if ((features & VirtioFeatures.bit(ProtocolFeatures.VHOST_USER_F_PROTOCOL_FEATURES)) == 0) {
            q.enabled(true); // without protocol features a ring starts enabled
        }
        if (memory == null) {
            LOG.warn("{}: queue {} cannot start: no memory table", name, i);
            return;
        }
        String refused = q.start(memory, features, inflight == null ? null : inflight.queue(i, q.size()));
        if (refused != null) {
            LOG.warn("{}: queue {} cannot start: {}", name, i, refused);
            return;
        }
        stopping = false;
        queuesInUse = Math.max(queuesInUse, i + 1);
        watchKick(i);
        LOG.info("{}: queue {} started: {} entries from available index {}{}", name, i, q.size(), q.lastAvailIndex(),
                fds[i].kick >= 0 ? "" : ", no kick fd");
    }

    private void watchKick(int i) {
        VringFds f = fds[i];
        if (f.kick >= 0) {
            f.kickWatch = thread.watchFd(f.kick, Epoll.EPOLLIN, ready -> onKick(i));
            if (thread.runtime().pollsContinuously()) {
                f.kickWatch.relaxed(); // the queue is polled: a kick (which the driver is told not to send) adds nothing
            }
        }
    }

    private int onKick(int i) {
        EventFd.read(fds[i].kick, kickCount, callState);
        Virtqueue q = queues[i];
        return 1 + q.poll(device, POLL_BUDGET) + q.signalIfDue(thread.runtime().clock().nanoTime());
    }

    /** GET_VRING_BASE: stops queue {@code i} and answers its base once its requests completed. */
    void stopQueue(int i) {
        stopping |= queues[i].started();
        queues[i].stop();
        fds[i].stopKick();
        if (queues[i].inFlight() == 0) {
            answerVringBase(i);
            return;
        }
        LOG.info("{}: queue {} stopping: waiting for {} request(s) in flight", name, i, queues[i].inFlight());
        state = State.DRAINING;
        drainingQueue = i;
        socketWatch.interest(0);
        waitDeadline = thread.runtime().clock().nanoTime() + DRAIN_BOUND_NANOS;
        waitPoller = thread.registerPoller(name + "_drain", this::checkDrained, 1000);
    }

    private int checkDrained() {
        Virtqueue q = queues[drainingQueue];
        q.signalIfNeeded();
        boolean late = thread.runtime().clock().nanoTime() > waitDeadline;
        if (q.inFlight() > 0 && !late) {
            return 0;
        }
        if (q.inFlight() > 0) {
            LOG.error("{}: queue {} still has {} requests in flight after {} ms; answering GET_VRING_BASE anyway", name,
                    drainingQueue, q.inFlight(), DRAIN_BOUND_NANOS / 1_000_000);
        }
        waitPoller.unregister();
        waitPoller = null;
        state = State.READY;
        socketWatch.interest(Epoll.EPOLLIN);
        answerVringBase(drainingQueue);
        return 1;
    }

    private void answerVringBase(int i) {
        Virtqueue q = queues[i];
        q.signalIfNeeded();
        q.detach();
        LOG.info("{}: queue {} stopped at available index {}", name, i, q.lastAvailIndex());
        writer.message().vringState(i, q.lastAvailIndex());
        handlers.reply(GET_VRING_BASE, VhostUserMessage.VRING_STATE_BYTES, -1);
    }

    /** RESET_OWNER, RESET_DEVICE: every queue forgets its rings and fds, features are negotiated again. */
    void resetDevice() {
        queuesInUse = 0;
        for (int i = 0; i < queues.length; i++) {
            queues[i].detach();
            queues[i].enabled(false);
            queues[i].base(0);
            fds[i].closeAll();
            queues[i].callFd(-1);
        }
        features = 0;
        status = 0;
    }

    /** A new memory table: running queues move to it, the old one goes once nothing points into it. */
    void replaceMemory(GuestMemory table) {
        LOG.info("{}: guest memory table of {}", name, table.describe());
        for (int i = 0; i < queues.length; i++) {
            String refused = queues[i].remap(table);
            if (refused != null) {
                LOG.error("{}: queue {} stopped: {} in the new memory table", name, i, refused);
                queues[i].detach();
                fds[i].stopKick();
            }
        }
        if (memory != null) {
            memory.retire(callState);
        }
        memory = table;
    }

    boolean anyQueueStarted() {
        for (Virtqueue q : queues) {
            if (q.started()) {
                return true;
            }
        }
        return false;
    }

    /** Ends the session: idempotent; {@code onClosed} runs once everything is released. Owner thread. */
    public void close() {
        if (state == State.CLOSING || state == State.CLOSED) {
            return;
        }
        state = State.CLOSING;
        if (socketWatch != null) {
            socketWatch.cancel();
        }
        Libc.closeQuietly(socket);
        if (waitPoller != null) {
            waitPoller.unregister();
        }
        for (int i = 0; i < queues.length; i++) {
            queues[i].stop();
            fds[i].stopKick();
        }
        waitDeadline = thread.runtime().clock().nanoTime() + DRAIN_BOUND_NANOS;
        if (finishClose() == 0) {
            waitPoller = thread.registerPoller(name + "_close", this::finishClose, 1000);
        }
    }

    private int finishClose() {
        int inFlight = 0;
        for (Virtqueue q : queues) {
            q.signalIfNeeded();
            inFlight += q.inFlight();
        }
        if (inFlight > 0 && thread.runtime().clock().nanoTime() <= waitDeadline) {
            return 0;
        }
        if (waitPoller != null) {
            waitPoller.unregister();
            waitPoller = null;
        }
        if (queuePoller != null) {
            queuePoller.unregister();
        }
        if (coalescingPoller != null) {
            coalescingPoller.unregister();
            coalescingPoller = null;
        }
        for (int i = 0; i < queues.length; i++) {
            queues[i].detach();
            queues[i].callFd(-1);
            fds[i].closeAll();
        }
        reader.finish();
        if (inFlight > 0) {
            LOG.error("{}: {} requests still in flight {} ms after the session ended: its guest memory stays mapped",
                    name, inFlight, DRAIN_BOUND_NANOS / 1_000_000);
        } else {
            if (memory != null) {
                memory.retire(callState);
            }
            if (inflight != null) {
                inflight.unmap(callState);
            }
            arena.close();
        }
        memory = null;
        inflight = null;
        state = State.CLOSED;
        onClosed.run();
        return 1;
    }
}
