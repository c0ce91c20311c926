package io.keel.vhost.user;

import static io.keel.vhost.user.VhostUserRequest.GET_CONFIG;
import static io.keel.vhost.user.VhostUserRequest.GET_FEATURES;
import static io.keel.vhost.user.VhostUserRequest.GET_INFLIGHT_FD;
import static io.keel.vhost.user.VhostUserRequest.GET_PROTOCOL_FEATURES;
import static io.keel.vhost.user.VhostUserRequest.GET_QUEUE_NUM;
import static io.keel.vhost.user.VhostUserRequest.GET_STATUS;
import static io.keel.vhost.user.VhostUserRequest.GET_VRING_BASE;

import io.keel.core.sys.Libc;
import io.keel.vhost.memory.GuestMemory;
import io.keel.vhost.virtio.Virtqueue;
import java.lang.foreign.MemorySegment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each front-end message does to a {@link VhostUserConnection}. A message that asks a question is always
 * answered (a refused GET_CONFIG with an empty payload, a refused GET_INFLIGHT_FD with a size of 0, as QEMU expects),
 * since the front end waits for the answer; any other message that is refused is logged and, when the front end
 * asked for an acknowledgement (REPLY_ACK negotiated and NEED_REPLY set), answered with a failure.
 */
final class MessageHandlers {
    private static final Logger LOG = LoggerFactory.getLogger(MessageHandlers.class);

    private final VhostUserConnection c;

    MessageHandlers(VhostUserConnection connection) {
        this.c = connection;
    }

    void handle(VhostUserMessage m) {
        int request = m.request();
        if (isQuestion(request)) {
            answer(m);
            return;
        }
        String refused = apply(m);
        if (refused != null) {
            LOG.warn("{}: {} refused: {}", c.name, VhostUserRequest.name(request), refused);
        } else {
            LOG.debug("{}: {}", c.name, VhostUserRequest.name(request));
        }
        acknowledge(m, refused == null);
    }

    /** Refuses a message that may not come now; a question still gets its (empty) answer. */
    void refuse(VhostUserMessage m, String why) {
        LOG.warn("{}: {} refused: {}", c.name, VhostUserRequest.name(m.request()), why);
        if (isQuestion(m.request())) {
            reply(m.request(), 0, -1);
        } else {
            acknowledge(m, false);
        }
    }

    private static boolean isQuestion(int request) {
        return request == GET_FEATURES || request == GET_PROTOCOL_FEATURES || request == GET_QUEUE_NUM
                || request == GET_VRING_BASE || request == GET_CONFIG || request == GET_INFLIGHT_FD
                || request == GET_STATUS;
    }

    private void acknowledge(VhostUserMessage m, boolean ok) {
        if (m.needReply() && (c.protocolFeatures & 1L << ProtocolFeatures.REPLY_ACK) != 0) {
            c.writer.message().u64(ok ? 0 : 1);
            reply(m.request(), VhostUserMessage.U64_BYTES, -1);
        }
    }

    /** Sends the reply prepared in the writer's message; a failure ends the connection. */
    void reply(int request, int size, int fd) {
        String failed = c.writer.send(c.socket, request, size, fd, c.callState);
        if (failed != null) {
            LOG.error("{}: cannot answer {}, closing the connection: {}", c.name, VhostUserRequest.name(request),
                    failed);
            c.close();
        }
    }

    private void answer(VhostUserMessage m) {
        VhostUserMessage out = c.writer.message();
        switch (m.request()) {
            case GET_FEATURES -> {
                out.u64(c.offeredFeatures());
                reply(GET_FEATURES, VhostUserMessage.U64_BYTES, -1);
            }
            case GET_PROTOCOL_FEATURES -> {
                out.u64(ProtocolFeatures.OFFERED);
                reply(GET_PROTOCOL_FEATURES, VhostUserMessage.U64_BYTES, -1);
            }
            case GET_QUEUE_NUM -> {
                out.u64(c.queues.length);
                reply(GET_QUEUE_NUM, VhostUserMessage.U64_BYTES, -1);
            }
            case GET_STATUS -> {
                out.u64(c.status);
                reply(GET_STATUS, VhostUserMessage.U64_BYTES, -1);
            }
            case GET_CONFIG -> getConfig(m);
            case GET_INFLIGHT_FD -> getInflightFd(m);
            default -> getVringBase(m);
        }
    }

    /** Applies a message that has no answer of its own: null, or why it was refused. */
    private String apply(VhostUserMessage m) {
        return switch (m.request()) {
            case VhostUserRequest.SET_OWNER -> {
                c.state = VhostUserConnection.State.READY;
                yield null;
            }
            case VhostUserRequest.SET_FEATURES -> setFeatures(m);
            case VhostUserRequest.SET_PROTOCOL_FEATURES -> setProtocolFeatures(m);
            case VhostUserRequest.RESET_OWNER, VhostUserRequest.RESET_DEVICE -> {
                c.resetDevice();
                yield null;
            }
            case VhostUserRequest.SET_MEM_TABLE -> setMemTable(m);
            case VhostUserRequest.SET_VRING_NUM -> setVringNum(m);
            case VhostUserRequest.SET_VRING_ADDR -> setVringAddr(m);
            case VhostUserRequest.SET_VRING_BASE -> setVringBase(m);
            case VhostUserRequest.SET_VRING_KICK, VhostUserRequest.SET_VRING_CALL, VhostUserRequest.SET_VRING_ERR ->
                    setVringFd(m);
            case VhostUserRequest.SET_VRING_ENABLE -> setVringEnable(m);
            case VhostUserRequest.SET_CONFIG -> setConfig(m);
            case VhostUserRequest.SET_INFLIGHT_FD -> setInflightFd(m);
            case VhostUserRequest.SET_STATUS -> setStatus(m);
            default -> "not supported";
        };
    }

    private static String tooShort(VhostUserMessage m, int needed) {
        return m.size() < needed ? "a payload of " + m.size() + " bytes, " + needed + " needed" : null;
    }

    private String setFeatures(VhostUserMessage m) {
        String bad = tooShort(m, VhostUserMessage.U64_BYTES);
        if (bad != null) {
            return bad;
        }
        long unknown = m.u64() & ~c.offeredFeatures();
        if (unknown != 0) {
            return "features 0x" + Long.toHexString(unknown) + " were not offered";
        }
        c.features = m.u64();
        return null;
    }

    private String setProtocolFeatures(VhostUserMessage m) {
        String bad = tooShort(m, VhostUserMessage.U64_BYTES);
        if (bad != null) {
            return bad;
        }
        long unknown = m.u64() & ~ProtocolFeatures.OFFERED;
        if (unknown != 0) {
            return "protocol features 0x" + Long.toHexString(unknown) + " were not offered";
        }
        c.protocolFeatures = m.u64();
        return null;
    }

    private String setStatus(VhostUserMessage m) {
        String bad = tooShort(m, VhostUserMessage.U64_BYTES);
        if (bad == null) {
            // recorded only: QEMU sends 0 on stop before GET_VRING_BASE, whose answer must still be the queue's base
            c.status = (int) m.u64() & 0xff;
        }
        return bad;
    }

    private String setMemTable(VhostUserMessage m) {
        String bad = tooShort(m, MemoryTablePayload.HEADER_BYTES);
        if (bad != null) {
            return bad;
        }
        int n = MemoryTablePayload.regionCount(m.payload());
        if (n < 1 || n > GuestMemory.MAX_REGIONS) {
            return n + " regions (1 to " + GuestMemory.MAX_REGIONS + " allowed)";
        }
        bad = tooShort(m, MemoryTablePayload.HEADER_BYTES + MemoryTablePayload.REGION_BYTES * n);
        if (bad != null) {
            return bad;
        }
        if (c.reader.fdCount() != n) {
            return n + " regions with " + c.reader.fdCount() + " fds";
        }
        int[] fds = new int[n];
        for (int i = 0; i < n; i++) {
            fds[i] = c.reader.takeFd(i);
        }
        try {
            c.replaceMemory(GuestMemory.map(MemoryTablePayload.regions(m.payload(), n), fds, c.callState));
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        } finally {
            for (int fd : fds) {
                Libc.closeQuietly(fd); // the mappings keep the memory
            }
        }
    }

    /** The queue a vring message names, or null (logged by the caller through the answer). */
    private Virtqueue queueOf(int index) {
        return index >= 0 && index < c.queues.length ? c.queues[index] : null;
    }

    private String setVringNum(VhostUserMessage m) {
        String bad = tooShort(m, VhostUserMessage.VRING_STATE_BYTES);
        Virtqueue q = bad == null ? queueOf(m.vringIndex()) : null;
        if (q == null) {
            return bad != null ? bad : "no queue " + m.vringIndex();
        }
        int num = m.vringNum();
        if (num < 1 || num > VhostUserConnection.MAX_QUEUE_SIZE || Integer.bitCount(num) != 1) {
            return "queue size " + num + " (a power of two up to " + VhostUserConnection.MAX_QUEUE_SIZE + ")";
        }
        if (q.started()) {
            return "queue " + q.index() + " runs";
        }
        q.size(num);
        return null;
    }

    private String setVringAddr(VhostUserMessage m) {
        String bad = tooShort(m, VhostUserMessage.VRING_ADDR_BYTES);
        Virtqueue q = bad == null ? queueOf(m.vringIndex()) : null;
        if (q == null) {
            return bad != null ? bad : "no queue " + m.vringIndex();
        }
        if (q.started()) {
            return "queue " + q.index() + " runs";
        }
        q.addresses(m.vringDescAddr(), m.vringAvailAddr(), m.vringUsedAddr());
        return null;
    }

    private String setVringBase(VhostUserMessage m) {
        String bad = tooShort(m, VhostUserMessage.VRING_STATE_BYTES);
        Virtqueue q = bad == null ? queueOf(m.vringIndex()) : null;
        if (q == null) {
            return bad != null ? bad : "no queue " + m.vringIndex();
        }
        if (q.started()) {
            return "queue " + q.index() + " runs";
        }
        q.base(m.vringNum());
        return null;
    }

    private String setVringEnable(VhostUserMessage m) {
        String bad = tooShort(m, VhostUserMessage.VRING_STATE_BYTES);
        Virtqueue q = bad == null ? queueOf(m.vringIndex()) : null;
        if (q == null) {
            return bad != null ? bad : "no queue " + m.vringIndex();
        }
        q.enabled(m.vringNum() != 0);
        return null;
    }

    /** SET_VRING_KICK, _CALL, _ERR: an fd, or none with the NOFD bit (the other side polls). */
    private String setVringFd(VhostUserMessage m) {
        String bad = tooShort(m, VhostUserMessage.U64_BYTES);
        if (bad != null) {
            return bad;
        }
        int index = (int) (m.u64() & VhostUserMessage.VRING_INDEX_MASK);
        boolean noFd = (m.u64() & VhostUserMessage.VRING_NOFD) != 0;
        if (queueOf(index) == null) {
            return "no queue " + index;
        }
        if (c.reader.fdCount() != (noFd ? 0 : 1)) {
            return c.reader.fdCount() + " fds" + (noFd ? " with the no-fd flag" : ", one expected");
        }
        int fd = noFd ? -1 : c.reader.takeFd(0);
        VringFds f = c.fds[index];
        switch (m.request()) {
            case VhostUserRequest.SET_VRING_KICK -> {
                f.kick(fd);
                c.startQueue(index);
            }
            case VhostUserRequest.SET_VRING_CALL -> {
                f.call(fd);
                c.queues[index].callFd(fd);
            }
            default -> f.err(fd);
        }
        return null;
    }

    private void getVringBase(VhostUserMessage m) {
        Virtqueue q = m.size() >= VhostUserMessage.VRING_STATE_BYTES ? queueOf(m.vringIndex()) : null;
        if (q == null) {
            LOG.warn("{}: GET_VRING_BASE refused: no such queue", c.name);
            c.writer.message().vringState(m.size() >= 4 ? m.vringIndex() : 0, 0);
            reply(GET_VRING_BASE, VhostUserMessage.VRING_STATE_BYTES, -1);
            return;
        }
        c.stopQueue(q.index());
    }

    private void getConfig(VhostUserMessage m) {
        MemorySegment in = m.payload();
        int offset = m.size() >= ConfigPayload.HEADER_BYTES ? ConfigPayload.offset(in) : -1;
        int size = m.size() >= ConfigPayload.HEADER_BYTES ? ConfigPayload.size(in) : -1;
        if (offset < 0 || size < 0 || size > ConfigPayload.MAX_CONFIG_BYTES
                || offset > ConfigPayload.MAX_CONFIG_BYTES) {
            LOG.warn("{}: GET_CONFIG refused: {} bytes at offset {}", c.name, size, offset);
            reply(GET_CONFIG, 0, -1);
            return;
        }
        MemorySegment out = c.writer.message().payload();
        ConfigPayload.header(out, offset, size, ConfigPayload.flags(in));
        MemorySegment bytes = out.asSlice(ConfigPayload.HEADER_BYTES, size);
        bytes.fill((byte) 0);
        MemorySegment config = c.device.configSpace();
        long have = Math.max(0, Math.min(size, config.byteSize() - offset));
        MemorySegment.copy(config, offset, bytes, 0, have);
        reply(GET_CONFIG, ConfigPayload.HEADER_BYTES + size, -1);
    }

    private String setConfig(VhostUserMessage m) {
        String bad = tooShort(m, ConfigPayload.HEADER_BYTES);
        if (bad != null) {
            return bad;
        }
        int offset = ConfigPayload.offset(m.payload());
        int size = ConfigPayload.size(m.payload());
        if (offset < 0 || size < 0 || size > ConfigPayload.MAX_CONFIG_BYTES || offset > ConfigPayload.MAX_CONFIG_BYTES
                || m.size() < ConfigPayload.HEADER_BYTES + size) {
            return size + " bytes at offset " + offset + " in a payload of " + m.size();
        }
        int rc = c.device.writeConfig(offset, m.payload().asSlice(ConfigPayload.HEADER_BYTES, size));
        return rc == 0 ? null : "the device refused it: " + Libc.strerror(-rc);
    }

    private void getInflightFd(VhostUserMessage m) {
        String refused = checkInflight(m);
        MemorySegment out = c.writer.message().payload();
        if (refused != null) {
            LOG.warn("{}: GET_INFLIGHT_FD refused: {}", c.name, refused);
            InflightPayload.write(out, 0, 0, 0, 0);
            reply(GET_INFLIGHT_FD, InflightPayload.BYTES, -1);
            return;
        }
        int queues = InflightPayload.numQueues(m.payload());
        int queueSize = InflightPayload.queueSize(m.payload());
        int[] fd = {-1};
        try {
            InflightRegion region = InflightRegion.create(queues, queueSize, fd, c.callState);
            replaceInflight(region);
            LOG.info("{}: inflight region made for {} queues of {}", c.name, queues, queueSize);
            InflightPayload.write(out, region.size(), 0, queues, queueSize);
            reply(GET_INFLIGHT_FD, InflightPayload.BYTES, fd[0]);
        } catch (IllegalArgumentException e) {
            LOG.warn("{}: GET_INFLIGHT_FD refused: {}", c.name, e.getMessage());
            InflightPayload.write(out, 0, 0, 0, 0);
            reply(GET_INFLIGHT_FD, InflightPayload.BYTES, -1);
        } finally {
            Libc.closeQuietly(fd[0]); // the front end has its copy; the mapping keeps ours
        }
    }

    private String setInflightFd(VhostUserMessage m) {
        String refused = checkInflight(m);
        if (refused != null) {
            return refused;
        }
        if (c.reader.fdCount() != 1) {
            return c.reader.fdCount() + " fds, one expected";
        }
        MemorySegment p = m.payload();
        try {
            replaceInflight(InflightRegion.map(c.reader.fd(0), InflightPayload.mmapSize(p),
                    InflightPayload.mmapOffset(p), InflightPayload.numQueues(p), InflightPayload.queueSize(p),
                    c.callState));
            LOG.info("{}: inflight region handed over for {} queues of {}", c.name, InflightPayload.numQueues(p),
                    InflightPayload.queueSize(p));
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    private String checkInflight(VhostUserMessage m) {
        String bad = tooShort(m, InflightPayload.MIN_BYTES);
        if (bad != null) {
            return bad;
        }
        int queues = InflightPayload.numQueues(m.payload());
        int queueSize = InflightPayload.queueSize(m.payload());
        if (queues < 1 || queues > c.queues.length || queueSize < 1 || queueSize > VhostUserConnection.MAX_QUEUE_SIZE) {
            return queues + " queues of " + queueSize + " (at most " + c.queues.length + " of "
                    + VhostUserConnection.MAX_QUEUE_SIZE + ")";
        }
        return c.anyQueueStarted() ? "queues run" : null;
    }

    /** The queues are stopped (checked), so nothing writes into the region being replaced. */
    private void replaceInflight(InflightRegion region) {
        if (c.inflight != null) {
            c.inflight.unmap(c.callState);
        }
        c.inflight = region;
    }
}
