package io.keel.rdma;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * rdma-core's entry points, bound once: libibverbs.so.1 and librdmacm.so.1 looked up by their sonames, every handle
 * that can fail capturing errno into the caller's call-state segment ({@code io.keel.core.sys.Libc#callState}) as its
 * leading argument. When a library cannot be loaded its handles are null and {@link #MISSING} says why; callers go
 * through {@link Rdma#availability()} first.
 *
 * <p>The data-path verbs (post_send, post_recv, post_srq_recv, poll_cq, req_notify_cq) are not exported symbols:
 * verbs.h defines them inline, calling through the provider's ops table in {@code struct ibv_context}. They are bound
 * here as address-taking handles ({@code invokeExact(fn, ...)}) that {@link VerbsContext} feeds with the pointers it
 * reads from the table. They are {@code critical}: short, never calling back into Java, so the JVM skips its thread-state
 * transition on each call.
 */
final class RdmaNative {
    private RdmaNative() {
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final Linker.Option CRITICAL = Linker.Option.critical(false);

    private static final SymbolLookup VERBS;
    private static final SymbolLookup CM;
    /** Null when both libraries loaded, else which did not and why. */
    static final String MISSING;

    static {
        String missing = null;
        SymbolLookup verbs = null;
        SymbolLookup cm = null;
        try {
            // the libraries stay mapped for the life of the process, as a C program's would
            verbs = SymbolLookup.libraryLookup("libibverbs.so.1", Arena.global());
            cm = SymbolLookup.libraryLookup("librdmacm.so.1", Arena.global());
        } catch (IllegalArgumentException e) {
            missing = (verbs == null ? "libibverbs.so.1" : "librdmacm.so.1")
                    + " cannot be loaded (rdma-core's libibverbs1 and librdmacm1 packages): " + e.getMessage();
        }
        VERBS = verbs;
        CM = cm;
        MISSING = missing;
    }

    // libibverbs: devices
    static final MethodHandle IBV_GET_DEVICE_LIST = verbs("ibv_get_device_list", FunctionDescriptor.of(ADDRESS, ADDRESS));
    static final MethodHandle IBV_FREE_DEVICE_LIST = plain(VERBS, "ibv_free_device_list",
            FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle IBV_GET_DEVICE_NAME = plain(VERBS, "ibv_get_device_name",
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    static final MethodHandle IBV_QUERY_DEVICE = plain(VERBS, "ibv_query_device",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle IBV_GET_ASYNC_EVENT = verbs("ibv_get_async_event",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle IBV_ACK_ASYNC_EVENT = plain(VERBS, "ibv_ack_async_event",
            FunctionDescriptor.ofVoid(ADDRESS));
    // protection domains and memory regions
    static final MethodHandle IBV_ALLOC_PD = verbs("ibv_alloc_pd", FunctionDescriptor.of(ADDRESS, ADDRESS));
    static final MethodHandle IBV_DEALLOC_PD = plain(VERBS, "ibv_dealloc_pd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle IBV_REG_MR = verbs("ibv_reg_mr",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
    static final MethodHandle IBV_DEREG_MR = plain(VERBS, "ibv_dereg_mr", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // completion channels and queues
    static final MethodHandle IBV_CREATE_COMP_CHANNEL = verbs("ibv_create_comp_channel",
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    static final MethodHandle IBV_DESTROY_COMP_CHANNEL = plain(VERBS, "ibv_destroy_comp_channel",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle IBV_CREATE_CQ = verbs("ibv_create_cq",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle IBV_DESTROY_CQ = plain(VERBS, "ibv_destroy_cq", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    /**
     * Without errno capture: a capturing downcall allocates 40 bytes per call under C1, and this one runs at every
     * interrupt-mode wake-up (twice: the event, then EAGAIN); its errno is read after it by {@code Libc.errnoNow()}.
     */
    static final MethodHandle IBV_GET_CQ_EVENT = plain(VERBS, "ibv_get_cq_event",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    /** The queue as a 64-bit integer, the same register as a pointer on LP64: no MemorySegment per event. */
    static final MethodHandle IBV_ACK_CQ_EVENTS = plain(VERBS, "ibv_ack_cq_events",
            FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_INT));
    // shared receive queues
    static final MethodHandle IBV_CREATE_SRQ = verbs("ibv_create_srq", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle IBV_DESTROY_SRQ = plain(VERBS, "ibv_destroy_srq",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle IBV_WC_STATUS_STR = plain(VERBS, "ibv_wc_status_str",
            FunctionDescriptor.of(ADDRESS, JAVA_INT));

    // the inline verbs, called through a function pointer read from the context's ops table
    /** ibv_post_send, ibv_post_recv and ibv_post_srq_recv: {@code int (*)(qp or srq, wr, bad_wr)}. */
    static final MethodHandle POST_WORK_REQUESTS = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), CRITICAL);
    static final MethodHandle POLL_CQ = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), CRITICAL);
    static final MethodHandle REQ_NOTIFY_CQ = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), CRITICAL);

    // librdmacm
    static final MethodHandle RDMA_CREATE_EVENT_CHANNEL = cm("rdma_create_event_channel", FunctionDescriptor.of(ADDRESS));
    static final MethodHandle RDMA_DESTROY_EVENT_CHANNEL = plain(CM, "rdma_destroy_event_channel",
            FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle RDMA_CREATE_ID = cm("rdma_create_id",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle RDMA_DESTROY_ID = cm("rdma_destroy_id", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle RDMA_BIND_ADDR = cm("rdma_bind_addr", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle RDMA_LISTEN = cm("rdma_listen", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle RDMA_RESOLVE_ADDR = cm("rdma_resolve_addr",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle RDMA_RESOLVE_ROUTE = cm("rdma_resolve_route",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle RDMA_CREATE_QP = cm("rdma_create_qp",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle RDMA_DESTROY_QP = plain(CM, "rdma_destroy_qp", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle RDMA_CONNECT = cm("rdma_connect", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle RDMA_ACCEPT = cm("rdma_accept", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle RDMA_REJECT = cm("rdma_reject",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_BYTE));
    static final MethodHandle RDMA_DISCONNECT = cm("rdma_disconnect", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle RDMA_MIGRATE_ID = cm("rdma_migrate_id", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle RDMA_GET_CM_EVENT = cm("rdma_get_cm_event",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle RDMA_ACK_CM_EVENT = cm("rdma_ack_cm_event", FunctionDescriptor.of(JAVA_INT, ADDRESS));

    private static MethodHandle verbs(String name, FunctionDescriptor fd) {
        return VERBS == null ? null : VERBS.find(name).map(a -> LINKER.downcallHandle(a, fd, ERRNO)).orElse(null);
    }

    private static MethodHandle cm(String name, FunctionDescriptor fd) {
        return CM == null ? null : CM.find(name).map(a -> LINKER.downcallHandle(a, fd, ERRNO)).orElse(null);
    }

    /** Functions that report failure in their return value (an errno) or cannot fail: no call state. */
    private static MethodHandle plain(SymbolLookup lib, String name, FunctionDescriptor fd) {
        return lib == null ? null : lib.find(name).map(a -> LINKER.downcallHandle(a, fd)).orElse(null);
    }
}
