package io.keel.rdma;

import static java.lang.foreign.ValueLayout.ADDRESS;

import io.keel.core.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One opened RDMA device ({@code struct ibv_context}), as the RDMA CM hands it out on a cm id once its address is
 * resolved or bound ({@link CmId#verbsContext()}). librdmacm opened it and closes it; this is a view that tells the
 * device's limits and creates what lives on the device: protection domains, completion channels, completion queues.
 */
public final class VerbsContext {
    private final MemorySegment context;

    VerbsContext(MemorySegment context) {
        this.context = context.reinterpret(RdmaAbi.CONTEXT_END);
    }

    /** The device's name, e.g. {@code rxe0}. */
    public String deviceName() {
        try {
            MemorySegment device = context.get(ADDRESS, RdmaAbi.CONTEXT_DEVICE);
            MemorySegment name = (MemorySegment) RdmaNative.IBV_GET_DEVICE_NAME.invokeExact(device);
            return name.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** The context's address: two cm ids on the same device give equal addresses. */
    public long address() {
        return context.address();
    }

    /** The device's limits ({@code ibv_query_device}); {@link RdmaException} if the provider refuses. */
    public DeviceAttributes queryDevice() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(RdmaAbi.DEVICE_ATTR_BYTES, 8);
            int rc = (int) RdmaNative.IBV_QUERY_DEVICE.invokeExact(context, attr);
            if (rc != 0) {
                throw new RdmaException("ibv_query_device", -Math.abs(rc)); // an errno, some providers negate it
            }
            return DeviceAttributes.read(attr);
        } catch (RdmaException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    public ProtectionDomain allocateProtectionDomain() {
        return ProtectionDomain.allocate(context);
    }

    /**
     * The device's asynchronous events ({@code ibv_get_async_event}): its fd made non-blocking, for one owner to
     * watch. One reader per device in the process.
     */
    public AsyncEvents asyncEvents() {
        return new AsyncEvents(context);
    }

    /** A channel whose fd becomes readable when an armed completion queue gets a completion. */
    public CompletionChannel createCompletionChannel() {
        return CompletionChannel.create(context);
    }

    /**
     * A completion queue of at least {@code entries} entries; {@code channel} (null for none) receives its events once
     * {@link CompletionQueue#requestNotify} arms it.
     */
    public CompletionQueue createCompletionQueue(int entries, CompletionChannel channel) {
        return CompletionQueue.create(context, entries, channel);
    }

    /**
     * One of the provider's data-path functions from the ops table of the context {@code object} belongs to, read as
     * verbs.h's inline functions read it ({@code qp->context->ops.post_send}); {@code objectContextOffset} is where
     * the object keeps its context pointer.
     */
    static MemorySegment operation(MemorySegment object, long objectContextOffset, long opsOffset) {
        MemorySegment ctx = object.get(ADDRESS, objectContextOffset).reinterpret(RdmaAbi.CONTEXT_OPS_END);
        MemorySegment fn = ctx.get(ADDRESS, opsOffset);
        if (fn.equals(MemorySegment.NULL)) {
            throw new RdmaException("the provider's ops table has no function at offset " + opsOffset,
                    -Libc.EOPNOTSUPP);
        }
        return fn;
    }
}
