package io.keel.rdma;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.keel.core.mem.NativeArena;
import io.keel.core.sys.Libc;
import java.lang.foreign.MemorySegment;

/**
 * A completion channel ({@code ibv_create_comp_channel}): its fd, made non-blocking here, turns readable when a
 * completion queue armed with {@link CompletionQueue#requestNotify} gets a completion, so a reactor can watch it
 * ({@code KeelThread.watchFd}) instead of polling. One owner thread reads it; it closes after its queues.
 */
public final class CompletionChannel implements AutoCloseable {
    private final NativeArena arena = new NativeArena();
    private final MemorySegment callState = Libc.callState(arena);
    private final MemorySegment cqOut = arena.allocate(ADDRESS);
    private final MemorySegment contextOut = arena.allocate(ADDRESS);
    private final int fd;
    private MemorySegment channel;

    private CompletionChannel(MemorySegment channel) {
        this.channel = channel.reinterpret(RdmaAbi.COMP_CHANNEL_END);
        this.fd = this.channel.get(JAVA_INT, RdmaAbi.COMP_CHANNEL_FD);
        int rc = Libc.setNonBlocking(fd, callState);
        if (rc < 0) {
            close();
            throw new RdmaException("fcntl(O_NONBLOCK) on the completion channel's fd", rc);
        }
    }

    static CompletionChannel create(MemorySegment context) {
        return new CompletionChannel(NativeCalls.created("ibv_create_comp_channel",
                cs -> (MemorySegment) RdmaNative.IBV_CREATE_COMP_CHANNEL.invokeExact(cs, context)));
    }

    /** The fd to watch for readability. */
    public int fd() {
        return fd;
    }

    MemorySegment segment() {
        if (channel == null) {
            throw new IllegalStateException("completion channel closed");
        }
        return channel;
    }

    /**
     * Takes one event and acknowledges it at once ({@code ibv_get_cq_event} + {@code ibv_ack_cq_events}), so no
     * unacknowledged event can hold up a queue's destruction. Returns the address of the queue it is for
     * ({@link CompletionQueue#address}), 0 when there is none now, or {@code -errno}. The queue is disarmed until it
     * is armed again.
     */
    public long nextEvent() {
        try {
            int rc = (int) RdmaNative.IBV_GET_CQ_EVENT.invokeExact(segment(), cqOut, contextOut);
            if (rc != 0) {
                int errno = Libc.errnoNow();
                return errno == Libc.EAGAIN ? 0 : -errno;
            }
            long cq = cqOut.get(JAVA_LONG, 0); // as an address: no segment made per event
            RdmaNative.IBV_ACK_CQ_EVENTS.invokeExact(cq, 1);
            return cq;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Destroys the channel (idempotent), after the queues that use it; throws {@link RdmaException} if refused. */
    @Override
    public void close() {
        if (channel == null) {
            return;
        }
        NativeCalls.destroyed("ibv_destroy_comp_channel", RdmaNative.IBV_DESTROY_COMP_CHANNEL, channel);
        channel = null;
        arena.close();
    }
}
