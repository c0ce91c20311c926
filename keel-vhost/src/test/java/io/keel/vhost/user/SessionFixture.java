package io.keel.vhost.user;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.reactor.ReactorOptions;
import io.keel.core.reactor.ReactorRuntime;
import io.keel.core.sys.EventFd;
import io.keel.core.sys.Libc;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.OnThread;
import io.keel.vhost.testing.DriverRing;
import io.keel.vhost.testing.FakeFrontEnd;
import io.keel.vhost.testing.GuestRam;
import io.keel.vhost.testing.RecordingDevice;
import io.keel.vhost.virtio.SplitRing;
import io.keel.vhost.virtio.VirtioFeatures;
import io.keel.vhost.virtio.VirtqueueRequest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.awaitility.Awaitility;

/**
 * A vhost-user session between a {@link FakeFrontEnd} and a {@link VhostUserConnection} on a real reactor in interrupt
 * mode, with a guest RAM and the driver side of queue 0, and the steps QEMU takes to bring a queue up.
 */
final class SessionFixture implements AutoCloseable {
    static final long RAM_BASE = 0x10_0000;
    static final long DATA = RAM_BASE + 0x1_0000;
    static final int QUEUE_SIZE = 16;
    static final int ACK = VhostUserMessage.VERSION | VhostUserMessage.FLAG_NEED_REPLY;

    final ReactorRuntime rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0), true));
    final KeelThread thread = rt.createThread("vhost_test", CpuMask.of(0));
    final Arena arena = Arena.ofShared();
    final MemorySegment cs = Libc.callState(arena);
    final MemorySegment count = arena.allocate(8, 8);
    final GuestRam ram = new GuestRam(RAM_BASE, 1 << 20);
    final DriverRing driver = new DriverRing(ram, RAM_BASE, QUEUE_SIZE);
    final FakeFrontEnd qemu = new FakeFrontEnd();
    final RecordingDevice device = new RecordingDevice();
    final CountDownLatch closed = new CountDownLatch(1);
    final int kickFd = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, cs);
    final int callFd = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, cs);
    final VhostUserConnection connection;

    SessionFixture() {
        int socket = qemu.backEndSocket();
        connection = OnThread.call(thread, () -> {
            VhostUserConnection c = new VhostUserConnection("vhost.0", thread, socket, device, closed::countDown);
            c.start();
            return c;
        });
    }

    /** Sends a message that wants an acknowledgement and checks it succeeded. */
    void acked(Runnable send) {
        send.run();
        FakeFrontEnd.Reply r = qemu.awaitReply();
        assertThat(r.u64()).as("acknowledgement of request " + r.request()).isZero();
    }

    long features() {
        qemu.send(VhostUserRequest.GET_FEATURES, VhostUserMessage.VERSION, 0);
        return qemu.awaitReply().u64();
    }

    /** What QEMU sends before the queues: features, protocol features with REPLY_ACK, owner, memory table. */
    void negotiate(long virtioFeatures) {
        long offered = features();
        qemu.send(VhostUserRequest.GET_PROTOCOL_FEATURES, VhostUserMessage.VERSION, 0);
        long protocol = qemu.awaitReply().u64();
        qemu.sendU64(VhostUserRequest.SET_PROTOCOL_FEATURES, VhostUserMessage.VERSION, protocol);
        qemu.sendU64(VhostUserRequest.SET_OWNER, VhostUserMessage.VERSION, 0);
        acked(() -> qemu.sendU64(VhostUserRequest.SET_FEATURES, ACK, offered & virtioFeatures));
        acked(() -> qemu.sendMemTable(ACK, List.of(ram.region()), ram.fd()));
    }

    /** Brings queue 0 up as QEMU does: num, base, addresses, kick, call, enable. */
    void startQueue0() {
        startQueue0(0);
    }

    /** Brings queue 0 up from available index {@code base}. */
    void startQueue0(int base) {
        acked(() -> qemu.sendVringState(VhostUserRequest.SET_VRING_NUM, ACK, 0, QUEUE_SIZE));
        acked(() -> qemu.sendVringState(VhostUserRequest.SET_VRING_BASE, ACK, 0, base));
        acked(() -> qemu.sendVringAddr(ACK, 0, GuestRam.qemuVa(driver.descAddr()), GuestRam.qemuVa(driver.usedAddr()),
                GuestRam.qemuVa(driver.availAddr())));
        acked(() -> qemu.sendVringFd(VhostUserRequest.SET_VRING_KICK, ACK, 0, kickFd));
        acked(() -> qemu.sendVringFd(VhostUserRequest.SET_VRING_CALL, ACK, 0, callFd));
        acked(() -> qemu.sendVringState(VhostUserRequest.SET_VRING_ENABLE, ACK, 0, 1));
    }

    void bringUp() {
        negotiate(VirtioFeatures.bit(VirtioFeatures.VERSION_1) | VirtioFeatures.bit(VirtioFeatures.RING_EVENT_IDX)
                | VirtioFeatures.bit(VirtioFeatures.RING_INDIRECT_DESC)
                | VirtioFeatures.bit(ProtocolFeatures.VHOST_USER_F_PROTOCOL_FEATURES));
        startQueue0();
    }

    /** The guest makes a one-buffer request at {@code head} available and kicks. */
    void submit(int head) {
        driver.desc(head, DATA + head * 0x100L, 16, SplitRing.DESC_F_WRITE, 0);
        driver.makeAvailable(head);
        EventFd.write(kickFd, 1, count, cs);
    }

    /** Waits for the device to have {@code n} requests and takes them. */
    VirtqueueRequest[] awaitRequests(int n) {
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> device.requests.size() >= n);
        VirtqueueRequest[] r = new VirtqueueRequest[n];
        for (int i = 0; i < n; i++) {
            r[i] = device.requests.poll();
        }
        return r;
    }

    /** Completes {@code r} on the session's thread and waits for the used index to move (at the end of that round). */
    void complete(VirtqueueRequest r) {
        OnThread.run(thread, () -> r.complete((byte) 0, 1));
        OnThread.run(thread, () -> { }); // queued after the message that moves the used index
    }

    /** Calls the back end made to the guest (taken). */
    long calls() {
        long n = EventFd.read(callFd, count, cs);
        return n < 0 ? 0 : n;
    }

    @Override
    public void close() {
        qemu.close();
        OnThread.run(thread, connection::close);
        rt.close();
        ram.close();
        Libc.closeQuietly(kickFd);
        Libc.closeQuietly(callFd);
        arena.close();
    }
}
