package io.keel.rdma;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.keel.core.mem.NativeArena;
import io.keel.core.sys.Libc;
import java.lang.foreign.MemorySegment;

/**
 * A device's asynchronous events ({@code ibv_get_async_event} on its context's {@code async_fd}, made non-blocking
 * here so a reactor can watch it): port changes, fatal errors, and per queue pair events such as
 * IBV_EVENT_QP_LAST_WQE_REACHED. {@link #next} decodes one into a reusable {@link AsyncEvent} and acknowledges it at
 * once: {@code ibv_destroy_qp} (and cq, srq) waits until every event of its object is acknowledged, so none may be held
 * while its object's owner destroys it. A queue pair's event names it by the {@code qp_context} its creator gave it
 * ({@link CmId#createQueuePair(ProtectionDomain, CompletionQueue, CompletionQueue, SharedReceiveQueue,
 * QueuePairCapabilities, long)}) and its number, read before the acknowledgement (the queue pair cannot go before it).
 * One owner thread; {@link #close} frees the reader, not the device (librdmacm's).
 */
public final class AsyncEvents implements AutoCloseable {
    private final NativeArena arena = new NativeArena();
    private final MemorySegment callState = Libc.callState(arena);
    private final MemorySegment event = arena.allocate(RdmaAbi.ASYNC_EVENT_BYTES, 8);
    private final MemorySegment context;
    private final int fd;
    private boolean closed;

    AsyncEvents(MemorySegment context) {
        this.context = context;
        this.fd = context.get(JAVA_INT, RdmaAbi.CONTEXT_ASYNC_FD);
        int rc = Libc.setNonBlocking(fd, callState);
        if (rc < 0) {
            arena.close();
            throw new RdmaException("fcntl(O_NONBLOCK) on the device's async event fd", rc);
        }
    }

    /** The fd to watch for readability. */
    public int fd() {
        return fd;
    }

    /**
     * Takes one event into {@code out} and acknowledges it: 1, 0 when there is none now, or {@code -errno}.
     */
    public int next(AsyncEvent out) {
        if (closed) {
            throw new IllegalStateException("async event reader closed");
        }
        try {
            int rc = (int) RdmaNative.IBV_GET_ASYNC_EVENT.invokeExact(callState, context, event);
            if (rc != 0) {
                int errno = Libc.errno(callState);
                return errno == Libc.EAGAIN ? 0 : -errno;
            }
            int code = event.get(JAVA_INT, RdmaAbi.ASYNC_EVENT_TYPE);
            AsyncEventType type = AsyncEventType.of(code);
            long qpContext = 0;
            int qpNumber = -1;
            int port = -1;
            if (type != null && type.aboutQueuePair()) {
                MemorySegment qp = event.get(ADDRESS, RdmaAbi.ASYNC_EVENT_ELEMENT).reinterpret(RdmaAbi.QP_END);
                qpContext = qp.get(JAVA_LONG, RdmaAbi.QP_QP_CONTEXT);
                qpNumber = qp.get(JAVA_INT, RdmaAbi.QP_NUM);
            } else if (type != null && type.aboutPort()) {
                port = event.get(JAVA_INT, RdmaAbi.ASYNC_EVENT_ELEMENT);
            }
            RdmaNative.IBV_ACK_ASYNC_EVENT.invokeExact(event);
            out.set(type, code, qpContext, qpNumber, port);
            return 1;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Frees the reader (idempotent); the fd stays the device's. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
