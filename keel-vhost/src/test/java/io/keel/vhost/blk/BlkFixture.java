package io.keel.vhost.blk;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;

import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevEvent;
import io.keel.bdev.BdevTestApp;
import io.keel.core.sys.EventFd;
import io.keel.core.sys.Libc;
import io.keel.core.thread.KeelThread;
import io.keel.vhost.testing.DriverRing;
import io.keel.vhost.testing.FakeFrontEnd;
import io.keel.vhost.testing.GuestRam;
import io.keel.vhost.user.ProtocolFeatures;
import io.keel.vhost.user.VhostUserConnection;
import io.keel.vhost.user.VhostUserMessage;
import io.keel.vhost.user.VhostUserRequest;
import io.keel.vhost.virtio.SplitRing;
import io.keel.vhost.virtio.VirtioFeatures;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.awaitility.Awaitility;

/**
 * A virtio-blk device over a malloc bdev in a Keel application, served to a {@link FakeFrontEnd} that negotiates
 * as QEMU does and plays the guest's virtio-blk driver on two queues: it lays requests out in guest RAM (header,
 * data, status byte), makes them available, kicks, and waits for the used ring.
 */
final class BlkFixture implements AutoCloseable {
    static final long RAM_BASE = 0x10_0000;
    static final int QUEUE_SIZE = 16;
    static final int ACK = VhostUserMessage.VERSION | VhostUserMessage.FLAG_NEED_REPLY;
    static final int BLOCKS = 2048;
    /** Per queue and head: 64 KiB of guest RAM for one request's header, data and status. */
    static final long SLOT_BYTES = 0x1_0000;
    static final long SLOTS = RAM_BASE + 0x1_0000;

    final BdevTestApp t;
    final KeelThread thread;
    final Arena arena = Arena.ofShared();
    final MemorySegment cs = Libc.callState(arena);
    final MemorySegment count = arena.allocate(8, 8);
    final GuestRam ram = new GuestRam(RAM_BASE, 4 << 20);
    final DriverRing[] rings = {new DriverRing(ram, RAM_BASE, QUEUE_SIZE), new DriverRing(ram, RAM_BASE + 0x4000,
            QUEUE_SIZE)};
    final int[] kickFds = new int[2];
    final int[] callFds = new int[2];
    final FakeFrontEnd qemu = new FakeFrontEnd();
    final CountDownLatch closed = new CountDownLatch(1);
    final BdevDesc desc;
    final VirtioBlkDevice device;
    final VhostUserConnection connection;
    private final int[] nextHead = new int[2];

    BlkFixture(Path dir, boolean readonly) {
        t = BdevTestApp.start(dir);
        t.rpc("bdev_malloc_create", params("name", "Malloc0", "block_size", 512, "num_blocks", BLOCKS));
        thread = t.thread("vhost_blk_test", 0);
        for (int q = 0; q < 2; q++) {
            kickFds[q] = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, cs);
            callFds[q] = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, cs);
        }
        int socket = qemu.backEndSocket();
        // as a controller does: a removed bdev's device lets go of its channel, then the descriptor is closed
        desc = BdevTestApp.on(thread, () -> t.layer().open("Malloc0", !readonly, (e, b) -> onBdevEvent(e)));
        device = BdevTestApp.on(thread, () -> new VirtioBlkDevice("vhost.blk0", desc, readonly, 2));
        connection = BdevTestApp.on(thread, () -> {
            VhostUserConnection c = new VhostUserConnection("vhost.blk0", thread, socket, device, closed::countDown);
            c.start();
            return c;
        });
    }

    void acked(Runnable send) {
        send.run();
        assertThat(qemu.awaitReply().u64()).isZero();
    }

    long features() {
        qemu.send(VhostUserRequest.GET_FEATURES, VhostUserMessage.VERSION, 0);
        return qemu.awaitReply().u64();
    }

    /** Negotiates as QEMU does and brings both queues up. */
    void bringUp() {
        long offered = features();
        qemu.send(VhostUserRequest.GET_PROTOCOL_FEATURES, VhostUserMessage.VERSION, 0);
        long protocol = qemu.awaitReply().u64();
        qemu.sendU64(VhostUserRequest.SET_PROTOCOL_FEATURES, VhostUserMessage.VERSION, protocol);
        qemu.sendU64(VhostUserRequest.SET_OWNER, VhostUserMessage.VERSION, 0);
        long wanted = offered & ~(1L << VirtioFeatures.RING_EVENT_IDX)
                | VirtioFeatures.bit(ProtocolFeatures.VHOST_USER_F_PROTOCOL_FEATURES);
        acked(() -> qemu.sendU64(VhostUserRequest.SET_FEATURES, ACK, wanted));
        acked(() -> qemu.sendMemTable(ACK, List.of(ram.region()), ram.fd()));
        for (int q = 0; q < 2; q++) {
            int i = q;
            DriverRing d = rings[q];
            acked(() -> qemu.sendVringState(VhostUserRequest.SET_VRING_NUM, ACK, i, QUEUE_SIZE));
            acked(() -> qemu.sendVringState(VhostUserRequest.SET_VRING_BASE, ACK, i, 0));
            acked(() -> qemu.sendVringAddr(ACK, i, GuestRam.qemuVa(d.descAddr()), GuestRam.qemuVa(d.usedAddr()),
                    GuestRam.qemuVa(d.availAddr())));
            acked(() -> qemu.sendVringFd(VhostUserRequest.SET_VRING_KICK, ACK, i, kickFds[i]));
            acked(() -> qemu.sendVringFd(VhostUserRequest.SET_VRING_CALL, ACK, i, callFds[i]));
            acked(() -> qemu.sendVringState(VhostUserRequest.SET_VRING_ENABLE, ACK, i, 1));
        }
    }

    /** Guest-physical address of queue {@code q}'s slot for {@code head}. */
    static long slot(int q, int head) {
        return SLOTS + (q * QUEUE_SIZE + head) * SLOT_BYTES;
    }

    MemorySegment guest(long gpa, long bytes) {
        return ram.bytes().asSlice(gpa - RAM_BASE, bytes);
    }

    /** What a request ended with. */
    record Done(byte status, int usedLength, int head) {
    }

    /**
     * Makes a request on queue {@code q}: the header (its own descriptor, {@code headerBytes} of it), then
     * {@code dataBytes} split into {@code pieces} descriptors (device-writable when {@code deviceWrites}), then a
     * status byte; returns its data's guest address (contiguous) for the test to fill or read.
     */
    long request(int q, int type, long sector, int headerBytes, int dataBytes, int pieces, boolean deviceWrites) {
        int head = nextHead[q];
        nextHead[q] = (head + pieces + 2) % QUEUE_SIZE;
        long at = slot(q, head);
        MemorySegment h = guest(at, 16);
        h.set(ValueLayout.JAVA_INT_UNALIGNED, 0, type);
        h.set(ValueLayout.JAVA_INT_UNALIGNED, 4, 0);
        h.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, sector);
        long data = at + 512;
        long status = at + SLOT_BYTES - 1;
        guest(status, 1).set(ValueLayout.JAVA_BYTE, 0, (byte) 0x7f);
        DriverRing d = rings[q];
        int idx = head;
        d.desc(idx, at, headerBytes, SplitRing.DESC_F_NEXT, (idx + 1) % QUEUE_SIZE);
        int per = pieces == 0 ? 0 : dataBytes / pieces;
        for (int p = 0; p < pieces; p++) {
            idx = (idx + 1) % QUEUE_SIZE;
            int len = p == pieces - 1 ? dataBytes - per * (pieces - 1) : per;
            d.desc(idx, data + (long) per * p, len, SplitRing.DESC_F_NEXT | (deviceWrites ? SplitRing.DESC_F_WRITE : 0),
                    (idx + 1) % QUEUE_SIZE);
        }
        idx = (idx + 1) % QUEUE_SIZE;
        d.desc(idx, status, 1, SplitRing.DESC_F_WRITE, 0);
        d.makeAvailable(head);
        return data;
    }

    /** Kicks queue {@code q} and waits for its used ring to reach the available index; the last one's outcome. */
    Done kickAndWait(int q) {
        DriverRing d = rings[q];
        EventFd.write(kickFds[q], 1, count, cs);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> d.usedIdx() == d.availIdx());
        int last = (d.usedIdx() - 1) & 0xffff;
        int head = d.usedId(last);
        byte status = guest(slot(q, head) + SLOT_BYTES - 1, 1).get(ValueLayout.JAVA_BYTE, 0);
        return new Done(status, d.usedLen(last), head);
    }

    /** One request on queue 0, run to its end. */
    Done run(int type, long sector, int dataBytes, boolean deviceWrites) {
        request(0, type, sector, 16, dataBytes, dataBytes == 0 ? 0 : 1, deviceWrites);
        return kickAndWait(0);
    }

    /** Reads {@code bytes} at {@code sector} straight from the bdev (not through virtio). */
    byte[] bdevBytes(long sector, int bytes) {
        MemorySegment buf = arena.allocate(bytes, 4096);
        java.util.concurrent.CompletableFuture<Boolean> done = new java.util.concurrent.CompletableFuture<>();
        BdevTestApp.on(thread, () -> {
            var ch = desc.getIoChannel();
            int rc = desc.read(ch.context(), buf, sector, bytes / 512, (io, ok, arg) -> {
                io.free();
                ch.put();
                done.complete(ok);
            }, null);
            if (rc != 0) {
                ch.put();
                done.complete(false);
            }
            return null;
        });
        assertThat(done.join()).isTrue();
        return buf.toArray(ValueLayout.JAVA_BYTE);
    }

    private void onBdevEvent(BdevEvent e) {
        if (e == BdevEvent.REMOVE) {
            device.bdevRemoved(this::closeDesc);
        }
    }

    private void closeDesc() {
        if (!desc.closed()) {
            desc.close();
        }
    }

    @Override
    public void close() throws Exception {
        qemu.close();
        BdevTestApp.on(thread, () -> {
            connection.close();
            return null;
        });
        closed.await();
        CountDownLatch released = new CountDownLatch(1);
        BdevTestApp.on(thread, () -> {
            device.release(released::countDown);
            return null;
        });
        released.await();
        BdevTestApp.on(thread, () -> {
            closeDesc();
            return null;
        });
        t.close();
        ram.close();
        for (int q = 0; q < 2; q++) {
            Libc.closeQuietly(kickFds[q]);
            Libc.closeQuietly(callFds[q]);
        }
        arena.close();
    }
}
