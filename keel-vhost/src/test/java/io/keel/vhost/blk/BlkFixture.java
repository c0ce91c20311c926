package io.keel.vhost.blk;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;

import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevEvent;
import io.keel.bdev.BdevTestApp;
import io.keel.core.thread.KeelThread;
import io.keel.vhost.testing.BlkGuest;
import io.keel.vhost.testing.FakeFrontEnd;
import io.keel.vhost.user.VhostUserConnection;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

/**
 * A virtio-blk device over a malloc bdev in a Keel application, served over a socket pair to a {@link BlkGuest}
 * (the guest's driver, two queues).
 */
final class BlkFixture implements AutoCloseable {
    static final int BLOCKS = 2048;

    final BdevTestApp t;
    final KeelThread thread;
    final Arena arena = Arena.ofShared();
    final BlkGuest guest = new BlkGuest(new FakeFrontEnd());
    final CountDownLatch closed = new CountDownLatch(1);
    final BdevDesc desc;
    final VirtioBlkDevice device;
    final VhostUserConnection connection;

    BlkFixture(Path dir, boolean readonly) {
        t = BdevTestApp.start(dir);
        t.rpc("bdev_malloc_create", params("name", "Malloc0", "block_size", 512, "num_blocks", BLOCKS));
        thread = t.thread("vhost_blk_test", 0);
        int socket = guest.qemu.backEndSocket();
        desc = BdevTestApp.on(thread, () -> t.layer().open("Malloc0", !readonly, (e, b) -> onBdevEvent(e)));
        device = BdevTestApp.on(thread, () -> new VirtioBlkDevice("vhost.blk0", desc, readonly, 2));
        connection = BdevTestApp.on(thread, () -> {
            VhostUserConnection c = new VhostUserConnection("vhost.blk0", thread, socket, device, closed::countDown);
            c.start();
            return c;
        });
    }

    /** As a controller does: a removed bdev's device lets go of its channel, then the descriptor is closed. */
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

    /** Reads {@code bytes} at {@code sector} straight from the bdev (not through virtio). */
    byte[] bdevBytes(long sector, int bytes) {
        MemorySegment buf = arena.allocate(bytes, 4096);
        CompletableFuture<Boolean> done = new CompletableFuture<>();
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

    @Override
    public void close() throws Exception {
        guest.qemu.hangUp();
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
        guest.close();
        arena.close();
    }
}
