package io.keel.vhost.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.vhost.user.ProtocolFeatures;
import io.keel.vhost.user.VhostUserMessage;
import io.keel.vhost.user.VhostUserRequest;
import io.keel.vhost.virtio.VirtioFeatures;
import java.util.ArrayList;
import java.util.List;

/**
 * How QEMU brings a two-queue vhost-user-blk device up, as a sequence driven by the back end's replies: features,
 * protocol features, SET_OWNER, then every setting acknowledged (REPLY_ACK) one at a time — features, the memory table,
 * and per queue its size, base, addresses, kick and call fds, enable. {@link BlkGuest#bringUp} waits for each reply;
 * a simulated front end hands them over as they arrive. Each acknowledgement must be 0.
 */
public final class BlkBringUp {
    private final BlkGuest guest;
    private final FakeFrontEnd qemu;
    private final List<Runnable> acked = new ArrayList<>();
    private int step;
    private long offered;

    public BlkBringUp(BlkGuest guest) {
        this.guest = guest;
        this.qemu = guest.qemu;
    }

    /** Sends the first message; its reply goes to {@link #onReply}. */
    public void begin() {
        qemu.send(VhostUserRequest.GET_FEATURES, VhostUserMessage.VERSION, 0);
    }

    /** Takes the reply to the last message sent and sends the next: false once the device is up (nothing was sent). */
    public boolean onReply(FakeFrontEnd.Reply reply) {
        switch (step++) {
            case 0 -> {
                offered = reply.u64();
                qemu.send(VhostUserRequest.GET_PROTOCOL_FEATURES, VhostUserMessage.VERSION, 0);
            }
            case 1 -> {
                qemu.sendU64(VhostUserRequest.SET_PROTOCOL_FEATURES, VhostUserMessage.VERSION, reply.u64());
                qemu.sendU64(VhostUserRequest.SET_OWNER, VhostUserMessage.VERSION, 0);
                planSettings();
                acked.removeFirst().run();
            }
            default -> {
                assertThat(reply.u64()).as("acknowledgement of request %d", reply.request()).isZero();
                if (acked.isEmpty()) {
                    return false;
                }
                acked.removeFirst().run();
            }
        }
        return true;
    }

    private void planSettings() {
        long wanted = offered & ~(1L << VirtioFeatures.RING_EVENT_IDX)
                | VirtioFeatures.bit(ProtocolFeatures.VHOST_USER_F_PROTOCOL_FEATURES);
        acked.add(() -> qemu.sendU64(VhostUserRequest.SET_FEATURES, BlkGuest.ACK, wanted));
        acked.add(() -> qemu.sendMemTable(BlkGuest.ACK, List.of(guest.ram.region()), guest.ram.fd()));
        for (int q = 0; q < 2; q++) {
            int i = q;
            DriverRing d = guest.rings[q];
            acked.add(() -> qemu.sendVringState(VhostUserRequest.SET_VRING_NUM, BlkGuest.ACK, i, BlkGuest.QUEUE_SIZE));
            acked.add(() -> qemu.sendVringState(VhostUserRequest.SET_VRING_BASE, BlkGuest.ACK, i, 0));
            acked.add(() -> qemu.sendVringAddr(BlkGuest.ACK, i, GuestRam.qemuVa(d.descAddr()),
                    GuestRam.qemuVa(d.usedAddr()), GuestRam.qemuVa(d.availAddr())));
            acked.add(() -> qemu.sendVringFd(VhostUserRequest.SET_VRING_KICK, BlkGuest.ACK, i, guest.kickFds[i]));
            acked.add(() -> qemu.sendVringFd(VhostUserRequest.SET_VRING_CALL, BlkGuest.ACK, i, guest.callFds[i]));
            acked.add(() -> qemu.sendVringState(VhostUserRequest.SET_VRING_ENABLE, BlkGuest.ACK, i, 1));
        }
    }
}
