package io.keel.rdma;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.keel.core.mem.NativeArena;
import io.keel.core.sys.Libc;
import java.lang.foreign.MemorySegment;

/**
 * An RDMA CM event channel ({@code rdma_create_event_channel}) with its fd non-blocking, for a reactor to watch
 * ({@code KeelThread.watchFd}, EPOLLIN) and drain with {@link #next}. Every event is acknowledged as soon as it is
 * decoded, so an unacknowledged event never holds up {@code rdma_destroy_id} (which waits for them). One owner thread
 * reads it; ids created on it are destroyed before it closes.
 */
public final class CmEventChannel implements AutoCloseable {
    private final NativeArena arena = new NativeArena();
    private final MemorySegment callState = Libc.callState(arena);
    private final MemorySegment eventOut = arena.allocate(ADDRESS);
    private final int fd;
    private MemorySegment channel;

    private CmEventChannel(MemorySegment channel) {
        this.channel = channel.reinterpret(JAVA_INT.byteSize());
        this.fd = this.channel.get(JAVA_INT, RdmaAbi.EVENT_CHANNEL_FD);
        int rc = Libc.setNonBlocking(fd, callState);
        if (rc < 0) {
            close();
            throw new RdmaException("fcntl(O_NONBLOCK) on the CM event channel's fd", rc);
        }
    }

    /** Creates a channel; {@link RdmaException} when the RDMA CM is not there ({@code -ENODEV}: no rdma_ucm). */
    public static CmEventChannel create() {
        return new CmEventChannel(NativeCalls.created("rdma_create_event_channel",
                cs -> (MemorySegment) RdmaNative.RDMA_CREATE_EVENT_CHANNEL.invokeExact(cs)));
    }

    /** The fd to watch for readability. */
    public int fd() {
        return fd;
    }

    MemorySegment segment() {
        if (channel == null) {
            throw new IllegalStateException("CM event channel closed");
        }
        return channel;
    }

    /**
     * Takes the next event into {@code into} and acknowledges it: 1, 0 when there is none now, or {@code -errno}.
     */
    public int next(CmEvent into) {
        try {
            int rc = (int) RdmaNative.RDMA_GET_CM_EVENT.invokeExact(callState, segment(), eventOut);
            if (rc != 0) {
                int errno = Libc.errno(callState);
                return errno == Libc.EAGAIN ? 0 : -errno;
            }
            MemorySegment event = eventOut.get(ADDRESS, 0).reinterpret(RdmaAbi.CM_EVENT_BYTES);
            into.set(event.get(JAVA_INT, RdmaAbi.CM_EVENT_EVENT),
                    event.get(JAVA_LONG, RdmaAbi.CM_EVENT_ID),
                    event.get(JAVA_LONG, RdmaAbi.CM_EVENT_LISTEN_ID),
                    event.get(JAVA_INT, RdmaAbi.CM_EVENT_STATUS),
                    event.get(ADDRESS, RdmaAbi.CM_EVENT_PRIVATE_DATA),
                    Byte.toUnsignedInt(event.get(JAVA_BYTE, RdmaAbi.CM_EVENT_PRIVATE_DATA_LEN)));
            into.connection(Byte.toUnsignedInt(event.get(JAVA_BYTE, RdmaAbi.CM_EVENT_RESPONDER_RESOURCES)),
                    Byte.toUnsignedInt(event.get(JAVA_BYTE, RdmaAbi.CM_EVENT_INITIATOR_DEPTH)));
            rc = (int) RdmaNative.RDMA_ACK_CM_EVENT.invokeExact(callState, event);
            return rc == 0 ? 1 : -Libc.errno(callState);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Destroys the channel (idempotent); its ids must be destroyed first. */
    @Override
    public void close() {
        if (channel == null) {
            return;
        }
        try {
            RdmaNative.RDMA_DESTROY_EVENT_CHANNEL.invokeExact(channel);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        channel = null;
        arena.close();
    }
}
