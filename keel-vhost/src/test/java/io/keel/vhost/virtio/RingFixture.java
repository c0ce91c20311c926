package io.keel.vhost.virtio;

import io.keel.core.sys.Libc;
import io.keel.vhost.memory.GuestMemory;
import io.keel.vhost.testing.DriverRing;
import io.keel.vhost.testing.GuestRam;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** A device-side {@link Virtqueue} and a driver's {@link DriverRing} over one fake guest RAM, without a connection. */
final class RingFixture implements AutoCloseable {
    static final long RAM_BASE = 0x10_0000;
    static final int SIZE = 16;
    /** Buffers the tests point descriptors at start here, after the rings. */
    static final long DATA = RAM_BASE + 0x1_0000;

    final Arena arena = Arena.ofShared();
    final MemorySegment cs = Libc.callState(arena);
    final GuestRam ram = new GuestRam(RAM_BASE, 1 << 20);
    final GuestMemory memory = GuestMemory.map(List.of(ram.region()), new int[] {ram.fd()}, cs);
    final DriverRing driver = new DriverRing(ram, RAM_BASE, SIZE);
    final Virtqueue queue = new Virtqueue("test", 0, 8, arena);
    final List<VirtqueueRequest> received = new ArrayList<>();
    final VirtqueueHandler handler = (q, r) -> received.add(r);

    RingFixture(long features) {
        this(features, null);
    }

    RingFixture(long features, MemorySegment inflight) {
        this(features, inflight, false);
    }

    /** A queue started with {@code features}; {@code polled}: as on a poll-mode reactor. */
    RingFixture(long features, MemorySegment inflight, boolean polled) {
        queue.polled(polled);
        queue.size(SIZE);
        queue.addresses(GuestRam.qemuVa(driver.descAddr()), GuestRam.qemuVa(driver.availAddr()),
                GuestRam.qemuVa(driver.usedAddr()));
        queue.enabled(true);
        String refused = queue.start(memory, features, inflight);
        if (refused != null) {
            throw new IllegalStateException(refused);
        }
    }

    int poll() {
        return queue.poll(handler, 64);
    }

    @Override
    public void close() {
        queue.detach();
        memory.retire(cs);
        ram.close();
        arena.close();
    }
}
