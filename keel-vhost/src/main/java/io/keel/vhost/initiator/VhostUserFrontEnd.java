package io.keel.vhost.initiator;

import static io.keel.vhost.user.VhostUserRequest.GET_CONFIG;
import static io.keel.vhost.user.VhostUserRequest.GET_FEATURES;
import static io.keel.vhost.user.VhostUserRequest.GET_PROTOCOL_FEATURES;
import static io.keel.vhost.user.VhostUserRequest.GET_QUEUE_NUM;
import static io.keel.vhost.user.VhostUserRequest.SET_FEATURES;
import static io.keel.vhost.user.VhostUserRequest.SET_MEM_TABLE;
import static io.keel.vhost.user.VhostUserRequest.SET_OWNER;
import static io.keel.vhost.user.VhostUserRequest.SET_PROTOCOL_FEATURES;
import static io.keel.vhost.user.VhostUserRequest.SET_VRING_ADDR;
import static io.keel.vhost.user.VhostUserRequest.SET_VRING_BASE;
import static io.keel.vhost.user.VhostUserRequest.SET_VRING_CALL;
import static io.keel.vhost.user.VhostUserRequest.SET_VRING_ENABLE;
import static io.keel.vhost.user.VhostUserRequest.SET_VRING_KICK;
import static io.keel.vhost.user.VhostUserRequest.SET_VRING_NUM;

import io.keel.core.mem.NativeArena;
import io.keel.core.rpc.Errno;
import io.keel.core.sys.Epoll;
import io.keel.core.sys.Libc;
import io.keel.core.sys.UnixSocket;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.vhost.memory.RegionSpec;
import io.keel.vhost.user.ConfigPayload;
import io.keel.vhost.user.MemoryTablePayload;
import io.keel.vhost.user.MessageReader;
import io.keel.vhost.user.MessageWriter;
import io.keel.vhost.user.ProtocolFeatures;
import io.keel.vhost.user.VhostUserMessage;
import io.keel.vhost.user.VhostUserRequest;
import io.keel.vhost.virtio.VirtioFeatures;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The front end of a vhost-user session (what QEMU is to a back end), as an asynchronous state machine on its owner
 * lightweight thread: the socket is a raw fd watch, each message is sent and its answer awaited without blocking, and
 * every wait has a deadline ({@link #STEP_NANOS}) that fails the session.
 *
 * <p>Two phases. {@link #negotiate}: connect, GET_FEATURES, GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES (MQ,
 * REPLY_ACK, CONFIG, as far as offered), SET_OWNER, GET_QUEUE_NUM, GET_CONFIG; the caller then decides what it wants
 * (features, queues, memory) and calls {@link #start}: SET_FEATURES, SET_MEM_TABLE, and per queue SET_VRING_NUM,
 * SET_VRING_BASE, SET_VRING_ADDR, SET_VRING_CALL, SET_VRING_KICK, SET_VRING_ENABLE. With REPLY_ACK every SET
 * message asks for an answer and a refusal fails the session. Once started, the socket is watched for the back end
 * going away ({@link Listener#gone}). States: NEW → NEGOTIATING → NEGOTIATED → STARTING → RUNNING; any failure or
 * {@link #close} → CLOSED (socket closed, nothing left). Owner thread only.
 */
final class VhostUserFrontEnd {
    /** How long the back end may take to answer one message. */
    static final long STEP_NANOS = 5_000_000_000L;
    private static final long DEADLINE_CHECK_MICROS = 50_000;
    /** Protocol features Keel's front end uses. */
    static final long WANTED_PROTOCOL = 1L << ProtocolFeatures.MQ | 1L << ProtocolFeatures.REPLY_ACK
            | 1L << ProtocolFeatures.CONFIG;

    enum State { NEW, NEGOTIATING, NEGOTIATED, STARTING, RUNNING, CLOSED }

    /** What the owner hears, on the owner thread; at most one of failed/gone, once. */
    interface Listener {
        /** The phase asked for ended well. */
        void phaseDone();

        /** A step failed: the session is closed. */
        void failed(int negErrno, String why);

        /** The back end went away (or broke the protocol) while running: the session is closed. */
        void gone(String why);
    }

    /** One queue as the back end is told of it: entries, ring addresses (our virtual addresses), eventfds. */
    record QueueSetup(int size, long descAddr, long availAddr, long usedAddr, int kickFd, int callFd) {
    }

    private final String name;
    private final String path;
    private final KeelThread thread;
    private final Listener listener;
    private final NativeArena arena = new NativeArena();
    private final MemorySegment callState = Libc.callState(arena);
    private final MessageReader reader = new MessageReader(arena);
    private final MessageWriter writer = new MessageWriter(arena);
    private final MemorySegment config = arena.allocate(ConfigPayload.MAX_CONFIG_BYTES, 8);
    private State state = State.NEW;
    private int socket = -1;
    private FdWatch watch;
    private Poller deadlinePoller;
    private long deadline;
    /** The request whose answer is awaited, or -1. */
    private int awaiting = -1;
    private String awaitingWhat;
    private int step;
    // learned
    private long offeredFeatures;
    private long protocolFeatures;
    private int queueNum = -1;
    private int configWanted;
    // asked for by start()
    private long features;
    private RegionSpec region;
    private int regionFd;
    private List<QueueSetup> queues;

    VhostUserFrontEnd(String name, String path, KeelThread thread, Listener listener) {
        this.name = name;
        this.path = path;
        this.thread = thread;
        this.listener = listener;
    }

    State state() {
        return state;
    }

    long offeredFeatures() {
        return offeredFeatures;
    }

    /** GET_QUEUE_NUM's answer, or -1 when the back end has no MQ protocol feature. */
    int queueNum() {
        return queueNum;
    }

    /** The device's config space as GET_CONFIG answered it (bytes past a short answer read as 0). */
    MemorySegment config() {
        return config;
    }

    /**
     * Connects and asks the back end what it is; {@link Listener#phaseDone} once the first {@code configSize} bytes of
     * the config space are read.
     */
    void negotiate(int configSize) {
        configWanted = Math.min(configSize, ConfigPayload.MAX_CONFIG_BYTES);
        socket = UnixSocket.connect(path, callState);
        if (socket < 0) {
            int rc = socket;
            socket = -1;
            fail(rc, "cannot connect to " + path + ": " + Libc.strerror(-rc));
            return;
        }
        state = State.NEGOTIATING;
        watch = thread.watchFd(socket, Epoll.EPOLLIN, this::onSocketReady).relaxed(); // control messages
        step = 0;
        advance();
    }

    /**
     * Sets the features (those offered that the caller wants; VHOST_USER_F_PROTOCOL_FEATURES is added when
     * protocol features are in use), the memory table (one region, our addresses for guest-physical and user
     * addresses alike, as SPDK's virtio-user does) and the queues; {@link Listener#phaseDone} once all were taken.
     */
    void start(long wantedFeatures, RegionSpec region, int regionFd, List<QueueSetup> queues) {
        features = wantedFeatures & offeredFeatures;
        if ((offeredFeatures & VirtioFeatures.bit(ProtocolFeatures.VHOST_USER_F_PROTOCOL_FEATURES)) != 0) {
            features |= VirtioFeatures.bit(ProtocolFeatures.VHOST_USER_F_PROTOCOL_FEATURES);
        }
        this.region = region;
        this.regionFd = regionFd;
        this.queues = queues;
        state = State.STARTING;
        step = 0;
        advance();
    }

    boolean hasProtocol(int bit) {
        return (protocolFeatures & 1L << bit) != 0;
    }

    /** Closes the session (idempotent): the socket goes, nothing more is heard. */
    void close() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        stopDeadline();
        if (watch != null) {
            watch.cancel();
            watch = null;
        }
        Libc.closeQuietly(socket);
        socket = -1;
        reader.finish();
        arena.close();
    }

    // ---- steps ----

    /** Sends steps until one awaits an answer, the phase ends, or a send fails. */
    private void advance() {
        while (state == State.NEGOTIATING || state == State.STARTING) {
            String sent = state == State.NEGOTIATING ? negotiationStep(step++) : startStep(step++);
            if (sent == null) { // the phase is over
                state = state == State.NEGOTIATING ? State.NEGOTIATED : State.RUNNING;
                listener.phaseDone();
                return;
            }
            if (state == State.CLOSED) {
                return; // the send failed
            }
            if (awaiting >= 0) {
                return;
            }
        }
    }

    /** Sends negotiation step {@code i}: what it sent ("" for a step skipped), or null past the last. */
    private String negotiationStep(int i) {
        boolean protocol = (offeredFeatures & VirtioFeatures.bit(ProtocolFeatures.VHOST_USER_F_PROTOCOL_FEATURES)) != 0;
        return switch (i) {
            case 0 -> send(GET_FEATURES, 0, true, 0);
            case 1 -> protocol ? send(GET_PROTOCOL_FEATURES, 0, true, 0) : "";
            case 2 -> {
                if (!protocol) {
                    yield "";
                }
                writer.message().u64(protocolFeatures);
                yield send(SET_PROTOCOL_FEATURES, 8, false, 0);
            }
            case 3 -> send(SET_OWNER, 0, false, 0);
            case 4 -> hasProtocol(ProtocolFeatures.MQ) ? send(GET_QUEUE_NUM, 0, true, 0) : "";
            case 5 -> {
                if (!hasProtocol(ProtocolFeatures.CONFIG)) {
                    fail(-Errno.ENOTSUP, "the back end does not offer its config space (protocol feature CONFIG)");
                    yield "";
                }
                MemorySegment p = writer.message().payload();
                ConfigPayload.header(p, 0, configWanted, 0);
                p.asSlice(ConfigPayload.HEADER_BYTES, configWanted).fill((byte) 0);
                yield send(GET_CONFIG, ConfigPayload.HEADER_BYTES + configWanted, true, 0);
            }
            default -> null;
        };
    }

    /** Sends start step {@code i}: SET_FEATURES, SET_MEM_TABLE, then six messages per queue. */
    private String startStep(int i) {
        if (i == 0) {
            writer.message().u64(features);
            return send(SET_FEATURES, 8, false, 0);
        }
        if (i == 1) {
            writer.fd(0, regionFd);
            return send(SET_MEM_TABLE, MemoryTablePayload.write(writer.message().payload(), List.of(region)), false, 1);
        }
        int q = (i - 2) / 6;
        if (q >= queues.size()) {
            return null;
        }
        QueueSetup s = queues.get(q);
        VhostUserMessage m = writer.message();
        switch ((i - 2) % 6) {
            case 0 -> {
                m.vringState(q, s.size());
                return send(SET_VRING_NUM, VhostUserMessage.VRING_STATE_BYTES, false, 0);
            }
            case 1 -> {
                m.vringState(q, 0);
                return send(SET_VRING_BASE, VhostUserMessage.VRING_STATE_BYTES, false, 0);
            }
            case 2 -> {
                m.vringAddr(q, s.descAddr(), s.usedAddr(), s.availAddr());
                return send(SET_VRING_ADDR, VhostUserMessage.VRING_ADDR_BYTES, false, 0);
            }
            case 3 -> {
                m.u64(q);
                writer.fd(0, s.callFd());
                return send(SET_VRING_CALL, 8, false, 1);
            }
            case 4 -> {
                m.u64(q);
                writer.fd(0, s.kickFd());
                return send(SET_VRING_KICK, 8, false, 1);
            }
            default -> {
                m.vringState(q, 1);
                return send(SET_VRING_ENABLE, VhostUserMessage.VRING_STATE_BYTES, false, 0);
            }
        }
    }

    /**
     * Sends {@code request} with the payload already written; a question always awaits its answer, a SET message
     * its acknowledgement when REPLY_ACK is negotiated. The request's name, or "" after a failure.
     */
    private String send(int request, int size, boolean question, int fdCount) {
        boolean ack = !question && request != SET_PROTOCOL_FEATURES && hasProtocol(ProtocolFeatures.REPLY_ACK);
        writer.message().requestHeader(request, ack ? VhostUserMessage.FLAG_NEED_REPLY : 0, size);
        String problem = writer.send(socket, fdCount, callState);
        if (problem != null) {
            fail(-Errno.EIO, VhostUserRequest.name(request) + ": " + problem);
            return "";
        }
        if (question || ack) {
            awaiting = request;
            awaitingWhat = (question ? "answer to " : "acknowledgement of ") + VhostUserRequest.name(request);
            deadline = thread.runtime().clock().nanoTime() + STEP_NANOS;
            if (deadlinePoller == null) {
                deadlinePoller = thread.registerPoller(name + "_vhost_user_deadline", this::checkDeadline,
                        DEADLINE_CHECK_MICROS);
            }
        }
        return VhostUserRequest.name(request);
    }

    // ---- answers ----

    private int onSocketReady(int events) {
        while (state != State.CLOSED) {
            MessageReader.Result r = reader.read(socket, callState);
            switch (r) {
                case AGAIN -> {
                    return 1;
                }
                case CLOSED, MALFORMED -> {
                    String why = reader.problem();
                    reader.finish();
                    lost(why);
                    return 1;
                }
                case MESSAGE -> {
                    VhostUserMessage m = reader.message();
                    String problem = answer(m);
                    reader.finish();
                    if (problem != null) {
                        lost(problem);
                        return 1;
                    }
                    advance();
                }
                default -> throw new IllegalStateException(r.toString());
            }
        }
        return 1;
    }

    /** Takes the awaited answer: null, or why the session cannot go on. */
    private String answer(VhostUserMessage m) {
        if (awaiting < 0 || !m.isReply() || m.request() != awaiting) {
            return "unexpected message " + VhostUserRequest.name(m.request()) + " (flags 0x"
                    + Integer.toHexString(m.flags()) + ")";
        }
        int request = awaiting;
        awaiting = -1;
        stopDeadline();
        MemorySegment p = m.payload();
        switch (request) {
            case GET_FEATURES, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM -> {
                if (m.size() < 8) {
                    return VhostUserRequest.name(request) + " answered with " + m.size() + " bytes";
                }
                long v = m.u64();
                if (request == GET_FEATURES) {
                    offeredFeatures = v;
                } else if (request == GET_PROTOCOL_FEATURES) {
                    protocolFeatures = v & WANTED_PROTOCOL;
                } else {
                    queueNum = (int) Math.min(v, Integer.MAX_VALUE);
                }
            }
            case GET_CONFIG -> {
                int size = m.size() < ConfigPayload.HEADER_BYTES ? 0 : ConfigPayload.size(p);
                if (size <= 0 || m.size() < ConfigPayload.HEADER_BYTES + size) {
                    return "GET_CONFIG answered without a config space";
                }
                MemorySegment.copy(p, ConfigPayload.HEADER_BYTES, config, 0, Math.min(size, configWanted));
            }
            default -> { // an acknowledgement: 0 is success
                if (m.size() < 8 || m.u64() != 0) {
                    return "the back end refused " + VhostUserRequest.name(request) + " (answer "
                            + (m.size() < 8 ? "too short" : Long.toString(m.u64())) + ")";
                }
            }
        }
        return null;
    }

    /** The socket ended or lied: a failure while setting up, the back end gone once running. */
    private void lost(String why) {
        if (state == State.RUNNING) {
            close();
            listener.gone(why);
        } else {
            fail(-Errno.EIO, why);
        }
    }

    private int checkDeadline() {
        if (awaiting >= 0 && thread.runtime().clock().nanoTime() - deadline > 0) {
            fail(-Errno.ETIMEDOUT, "no " + awaitingWhat + " within " + STEP_NANOS / 1_000_000_000L + " s");
            return 1;
        }
        return 0;
    }

    private void stopDeadline() {
        if (deadlinePoller != null) {
            deadlinePoller.unregister();
            deadlinePoller = null;
        }
    }

    private void fail(int negErrno, String why) {
        if (state == State.CLOSED) {
            return;
        }
        close();
        listener.failed(negErrno, why);
    }
}
