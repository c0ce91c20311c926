package io.keel.rdma;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.keel.core.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** Whether RDMA can be used in this process, and why not: ask before creating anything of this module. */
public final class Rdma {
    private Rdma() {
    }

    /**
     * The answer to "can this process use RDMA?": the devices libibverbs sees, and when unusable, a sentence that says
     * what is missing and how to get it.
     */
    public record Availability(boolean usable, String reason, List<String> devices) {
    }

    /**
     * Looks now (devices come and go): the libraries load, ibv_get_device_list finds at least one device, and the RDMA
     * CM's character device answers (rdma_create_event_channel, destroyed at once).
     */
    public static Availability availability() {
        if (!Libc.SUPPORTED_PLATFORM) {
            return new Availability(false, "RDMA through rdma-core is supported on Linux x86_64 and aarch64 only, not "
                    + System.getProperty("os.name") + " " + Libc.ARCH, List.of());
        }
        if (RdmaNative.MISSING != null) {
            return new Availability(false, RdmaNative.MISSING, List.of());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = Libc.callState(arena);
            List<String> devices = deviceNames(arena, callState);
            if (devices.isEmpty()) {
                return new Availability(false, "no RDMA device: ibv_get_device_list found none (no RDMA driver is loaded "
                        + "in this kernel; for Soft-RoCE: modprobe rdma_rxe ib_uverbs rdma_ucm && rdma link add rxe0 "
                        + "type rxe netdev eth0)", devices);
            }
            MemorySegment channel = (MemorySegment) RdmaNative.RDMA_CREATE_EVENT_CHANNEL.invokeExact(callState);
            if (channel.equals(MemorySegment.NULL)) {
                return new Availability(false, "RDMA devices " + devices + " but no RDMA CM: rdma_create_event_channel: "
                        + Libc.strerror(Libc.errno(callState)) + " (modprobe rdma_ucm; /dev/infiniband/rdma_cm)",
                        devices);
            }
            RdmaNative.RDMA_DESTROY_EVENT_CHANNEL.invokeExact(channel);
            return new Availability(true, "RDMA devices " + devices, devices);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    private static List<String> deviceNames(Arena arena, MemorySegment callState) throws Throwable {
        MemorySegment count = arena.allocate(JAVA_INT);
        MemorySegment list = (MemorySegment) RdmaNative.IBV_GET_DEVICE_LIST.invokeExact(callState, count);
        List<String> names = new ArrayList<>();
        if (list.equals(MemorySegment.NULL)) {
            return names; // ENOSYS: no kernel support at all
        }
        int n = count.get(JAVA_INT, 0);
        MemorySegment devices = list.reinterpret(ADDRESS.byteSize() * n);
        for (int i = 0; i < n; i++) {
            MemorySegment name = (MemorySegment) RdmaNative.IBV_GET_DEVICE_NAME.invokeExact(
                    devices.getAtIndex(ADDRESS, i));
            names.add(name.reinterpret(256).getString(0));
        }
        RdmaNative.IBV_FREE_DEVICE_LIST.invokeExact(list);
        return names;
    }
}
