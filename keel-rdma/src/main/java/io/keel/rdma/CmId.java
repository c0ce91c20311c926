package io.keel.rdma;

import static java.lang.foreign.ValueLayout.ADDRESS;

import io.keel.core.mem.NativeArena;
import io.keel.core.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.net.InetSocketAddress;

/**
 * An RDMA CM identifier ({@code struct rdma_cm_id}, port space TCP): the RDMA counterpart of a socket, listening or
 * connected, whose events arrive on a {@link CmEventChannel}. The operations start something and return 0 or
 * {@code -errno}; the outcome arrives later as an event for this id ({@link #address}). One owner thread; closing
 * destroys its queue pair, if any, then the id.
 */
public final class CmId implements AutoCloseable {
    private final NativeArena arena = new NativeArena();
    private final MemorySegment callState = Libc.callState(arena);
    private final MemorySegment sockaddr = arena.allocate(RdmaAbi.SOCKADDR_STORAGE_BYTES, 8);
    private final MemorySegment sourceSockaddr = arena.allocate(RdmaAbi.SOCKADDR_STORAGE_BYTES, 8);
    private MemorySegment id;
    private QueuePair queuePair;

    private CmId(MemorySegment id) {
        this.id = id.reinterpret(RdmaAbi.CM_ID_END);
    }

    /** A new id whose events arrive on {@code channel} ({@code rdma_create_id}, RDMA_PS_TCP). */
    public static CmId create(CmEventChannel channel) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = Libc.callState(arena);
            MemorySegment out = arena.allocate(ADDRESS);
            int rc = (int) RdmaNative.RDMA_CREATE_ID.invokeExact(callState, channel.segment(), out,
                    MemorySegment.NULL, RdmaAbi.RDMA_PS_TCP);
            if (rc != 0) {
                throw new RdmaException("rdma_create_id", -Libc.errno(callState));
            }
            return new CmId(out.get(ADDRESS, 0));
        } catch (RdmaException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * Takes ownership of the new id a CONNECT_REQUEST names ({@link CmEvent#id}): the caller accepts or rejects it and
     * closes it in the end, like any other.
     */
    public static CmId adopt(long address) {
        if (address == 0) {
            throw new IllegalArgumentException("no cm id at address 0");
        }
        return new CmId(MemorySegment.ofAddress(address));
    }

    /** The id's address, as events name it. */
    public long address() {
        return segment().address();
    }

    MemorySegment segment() {
        if (id == null) {
            throw new IllegalStateException("cm id closed");
        }
        return id;
    }

    /** The device the id is bound to (after a bind to a device's address, address resolution, or a connect request), or null. */
    public VerbsContext verbsContext() {
        MemorySegment verbs = segment().get(ADDRESS, RdmaAbi.CM_ID_VERBS);
        return verbs.equals(MemorySegment.NULL) ? null : new VerbsContext(verbs);
    }

    /** The local address of the id's route, or null before it has one. */
    public InetSocketAddress localAddress() {
        return SocketAddresses.read(segment().asSlice(RdmaAbi.CM_ID_SRC_ADDR, RdmaAbi.SOCKADDR_STORAGE_BYTES));
    }

    /** The peer's address, or null before it has one. */
    public InetSocketAddress peerAddress() {
        return SocketAddresses.read(segment().asSlice(RdmaAbi.CM_ID_DST_ADDR, RdmaAbi.SOCKADDR_STORAGE_BYTES));
    }

    /** {@code rdma_bind_addr}: binds to a local address (port 0 picks one); 0 or {@code -errno}. */
    public int bind(InetSocketAddress local) {
        SocketAddresses.write(local, sockaddr);
        return call(RdmaNative.RDMA_BIND_ADDR, sockaddr);
    }

    /** {@code rdma_listen}: CONNECT_REQUEST events follow; 0 or {@code -errno}. */
    public int listen(int backlog) {
        try {
            return result((int) RdmaNative.RDMA_LISTEN.invokeExact(callState, segment(), backlog));
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * {@code rdma_resolve_addr}: finds the device that reaches {@code destination} (from {@code source}, or null for
     * any); ADDR_RESOLVED or ADDR_ERROR follows. 0 or {@code -errno}.
     */
    public int resolveAddress(InetSocketAddress source, InetSocketAddress destination, int timeoutMs) {
        MemorySegment src = MemorySegment.NULL;
        if (source != null) {
            SocketAddresses.write(source, sourceSockaddr);
            src = sourceSockaddr;
        }
        SocketAddresses.write(destination, sockaddr);
        try {
            return result((int) RdmaNative.RDMA_RESOLVE_ADDR.invokeExact(callState, segment(), src, sockaddr,
                    timeoutMs));
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code rdma_resolve_route}: ROUTE_RESOLVED or ROUTE_ERROR follows; 0 or {@code -errno}. */
    public int resolveRoute(int timeoutMs) {
        try {
            return result((int) RdmaNative.RDMA_RESOLVE_ROUTE.invokeExact(callState, segment(), timeoutMs));
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * Creates the id's reliable-connected queue pair in {@code pd} ({@code rdma_create_qp}); the id owns it and
     * destroys it when it closes, unless {@link QueuePair#close} did first.
     */
    public QueuePair createQueuePair(ProtectionDomain pd, CompletionQueue sendCq, CompletionQueue recvCq,
            QueuePairCapabilities capabilities) {
        return createQueuePair(pd, sendCq, recvCq, null, capabilities);
    }

    /**
     * As {@link #createQueuePair(ProtectionDomain, CompletionQueue, CompletionQueue, QueuePairCapabilities)}, the
     * queue pair taking its receives from {@code srq} (null: its own receive queue, sized by {@code capabilities}).
     */
    public QueuePair createQueuePair(ProtectionDomain pd, CompletionQueue sendCq, CompletionQueue recvCq,
            SharedReceiveQueue srq, QueuePairCapabilities capabilities) {
        return createQueuePair(pd, sendCq, recvCq, srq, capabilities, 0);
    }

    /**
     * As above, with {@code context} as the queue pair's {@code qp_context}: its asynchronous events name it by that
     * ({@link AsyncEvent#queuePairContext()}), so their reader can send them to the queue pair's owner.
     */
    public QueuePair createQueuePair(ProtectionDomain pd, CompletionQueue sendCq, CompletionQueue recvCq,
            SharedReceiveQueue srq, QueuePairCapabilities capabilities, long context) {
        if (queuePair != null) {
            throw new IllegalStateException("the cm id already has a queue pair");
        }
        queuePair = QueuePair.create(this, pd, sendCq, recvCq, srq, capabilities, context);
        return queuePair;
    }

    void queuePairClosed() {
        queuePair = null;
    }

    /** {@code rdma_connect} after ROUTE_RESOLVED: ESTABLISHED (with the accept's private data), REJECTED or an error follows. */
    public int connect(ConnectionParameters parameters) {
        return call(RdmaNative.RDMA_CONNECT, parameters.segment());
    }

    /** {@code rdma_accept} of an adopted CONNECT_REQUEST id: ESTABLISHED follows. 0 or {@code -errno}. */
    public int accept(ConnectionParameters parameters) {
        return call(RdmaNative.RDMA_ACCEPT, parameters.segment());
    }

    /** {@code rdma_reject} with {@code length} bytes of {@code privateData}; the peer sees REJECTED. */
    public int reject(MemorySegment privateData, int length) {
        if (length < 0 || length > CmEvent.MAX_PRIVATE_DATA || length > privateData.byteSize()) {
            throw new IllegalArgumentException("private data length " + length);
        }
        try {
            return result((int) RdmaNative.RDMA_REJECT.invokeExact(callState, segment(), privateData, (byte) length));
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code rdma_disconnect}: both sides see DISCONNECTED; posted requests flush with IBV_WC_WR_FLUSH_ERR. */
    public int disconnect() {
        try {
            return result((int) RdmaNative.RDMA_DISCONNECT.invokeExact(callState, segment()));
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * {@code rdma_migrate_id}: this id's future events arrive on {@code channel} (a connection accepted on a listener's
     * channel moves to its poll group's). 0 or {@code -errno}.
     */
    public int migrate(CmEventChannel channel) {
        return call(RdmaNative.RDMA_MIGRATE_ID, channel.segment());
    }

    private int call(MethodHandle op, MemorySegment argument) {
        try {
            return result((int) op.invokeExact(callState, segment(), argument));
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    private int result(int rc) {
        return rc == 0 ? 0 : -Libc.errno(callState);
    }

    /**
     * Destroys the queue pair, if still there, and the id ({@code rdma_destroy_id}, idempotent). Every event for it
     * was acknowledged when read ({@link CmEventChannel#next}), so this does not wait on one.
     */
    @Override
    public void close() {
        if (id == null) {
            return;
        }
        if (queuePair != null) {
            queuePair.close();
        }
        try {
            int rc = (int) RdmaNative.RDMA_DESTROY_ID.invokeExact(callState, id);
            if (rc != 0) {
                throw new RdmaException("rdma_destroy_id", -Libc.errno(callState));
            }
        } catch (RdmaException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        id = null;
        arena.close();
    }
}
