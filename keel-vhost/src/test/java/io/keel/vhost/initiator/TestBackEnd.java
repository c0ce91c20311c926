package io.keel.vhost.initiator;

import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevLayer;
import io.keel.bdev.passthru.VbdevHarness;
import io.keel.core.sys.Epoll;
import io.keel.core.sys.Libc;
import io.keel.core.sys.UnixSocket;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.vhost.blk.VirtioBlkDevice;
import io.keel.vhost.user.VhostUserConnection;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A vhost-blk back end the test can take away: it listens at a path, serves the first connection with a virtio-blk
 * device over a bdev, and {@link #hangUp}s when told (the socket closes at once, as when the target process dies),
 * without any controller's delete rules in the way.
 */
final class TestBackEnd implements AutoCloseable {
    final Path path;
    private final KeelThread thread;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment cs = Libc.callState(arena);
    private final CountDownLatch closed = new CountDownLatch(1);
    private int listener;
    private FdWatch watch;
    private BdevDesc desc;
    private VirtioBlkDevice device;
    private VhostUserConnection connection;

    TestBackEnd(VbdevHarness h, Path path, String bdev) {
        this.path = path;
        this.thread = h.app.runtime().createThread("test_back_end", io.keel.core.thread.CpuMask.of(0));
        on(() -> {
            listener = UnixSocket.listen(path.toString(), 4, cs);
            if (listener < 0) {
                throw new IllegalStateException("listen: " + Libc.strerror(-listener));
            }
            desc = BdevLayer.of(h.app).open(bdev, true, (e, b) -> { });
            device = new VirtioBlkDevice("test_back_end", desc, false, 2);
            watch = thread.watchFd(listener, Epoll.EPOLLIN, r -> accept());
        });
    }

    private int accept() {
        int fd = UnixSocket.accept(listener, cs);
        if (fd >= 0) {
            watch.cancel();
            connection = new VhostUserConnection("test_back_end", thread, fd, device, closed::countDown);
            connection.start();
        }
        return 1;
    }

    /** Closes the session's socket now, with whatever the device has in flight. */
    void hangUp() {
        on(() -> connection.close());
    }

    private void on(Runnable r) {
        CountDownLatch done = new CountDownLatch(1);
        thread.send(() -> {
            r.run();
            done.countDown();
        });
        try {
            done.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() throws Exception {
        if (connection != null) {
            hangUp();
            closed.await(10, TimeUnit.SECONDS);
        }
        CountDownLatch released = new CountDownLatch(1);
        on(() -> device.release(released::countDown));
        released.await(10, TimeUnit.SECONDS);
        on(() -> {
            if (connection == null) {
                watch.cancel();
            }
            Libc.closeQuietly(listener);
            desc.close();
        });
        CountDownLatch exited = new CountDownLatch(1);
        thread.send(() -> thread.exit(exited::countDown));
        exited.await(10, TimeUnit.SECONDS);
        arena.close();
    }
}
