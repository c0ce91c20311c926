package io.keel.bench;

import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevLayer;
import io.keel.core.app.AppOptions;
import io.keel.core.app.KeelApp;
import io.keel.core.sys.Libc;
import io.keel.core.sys.SharedMemory;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import io.keel.vhost.blk.VirtioBlk;
import io.keel.vhost.blk.VirtioBlkDevice;
import io.keel.vhost.memory.GuestMemory;
import io.keel.vhost.memory.RegionSpec;
import io.keel.vhost.virtio.SplitRing;
import io.keel.vhost.virtio.SplitRingDriver;
import io.keel.vhost.virtio.VirtioFeatures;
import io.keel.vhost.virtio.Virtqueue;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What Keel's vhost-blk target spends per request, with nothing else on the core: a {@link VirtioBlkDevice} over a
 * null bdev, its virtqueue polled on one poll-mode reactor, and on the same thread a minimal driver (a
 * {@link SplitRingDriver}: per request it reads a used element and puts the head back in the available ring, a few
 * stores) that keeps {@code --qd} requests in flight — 4 KiB-style reads of three descriptors (header, data, status),
 * as virtio-blk drivers send them. No vhost-user socket, no second process, no cross-core traffic: the figure is the
 * target's own CPU work per request (plus the reactor's loop, spread over the batch), steady from run to run where
 * the cross-core benchmarks swing 2x with the VM. The compare-vhost-spdk scripts measure the real thing.
 *
 * <p>Options: {@code --qd=N} (default 32, at most 170), {@code --bytes=N} (data per request, default 512),
 * {@code --seconds=S} (each measured window, default 3), {@code --rounds=N} (default 5), {@code --warmup=S}
 * (default 3). Prints each round's requests per second and nanoseconds per request, then the median.
 */
public final class VhostTargetCost {
    private static final int RING = 512;
    private static final long USER_VA = 0x7f00_0000_0000L;
    private static final long MEMORY_BYTES = 4L << 20;
    private static final long DATA = 64 << 10;
    private static final long CHAIN_STRIDE = 8 << 10;

    private final KeelThread thread;
    private final int qd;
    private final int bytes;
    private Arena arena;
    private MemorySegment callState;
    /** The driver's mapping of the memory; the device maps it again, as a back end does. */
    private MemorySegment ram;
    private GuestMemory memory;
    private SplitRingDriver driver;
    private Virtqueue queue;
    private VirtioBlkDevice device;
    private Poller poller;
    private int seenUsed;
    private long completed;

    private VhostTargetCost(KeelThread thread, int qd, int bytes) {
        this.thread = thread;
        this.qd = qd;
        this.bytes = bytes;
    }

    public static void main(String[] args) throws Exception {
        int qd = 32;
        int bytes = 512;
        double seconds = 3;
        double warmup = 3;
        int rounds = 5;
        for (String a : args) {
            String v = a.substring(a.indexOf('=') + 1);
            if (a.startsWith("--qd=")) {
                qd = Integer.parseInt(v);
            } else if (a.startsWith("--bytes=")) {
                bytes = Integer.parseInt(v);
            } else if (a.startsWith("--seconds=")) {
                seconds = Double.parseDouble(v);
            } else if (a.startsWith("--warmup=")) {
                warmup = Double.parseDouble(v);
            } else if (a.startsWith("--rounds=")) {
                rounds = Integer.parseInt(v);
            } else {
                throw new IllegalArgumentException("unknown option " + a
                        + " (--qd=N --bytes=N --seconds=S --warmup=S --rounds=N)");
            }
        }
        if (qd < 1 || 3 * qd > RING || bytes < 512 || bytes % 512 != 0 || bytes > CHAIN_STRIDE - 1024) {
            throw new IllegalArgumentException("--qd 1.." + RING / 3 + ", --bytes a multiple of 512 up to "
                    + (CHAIN_STRIDE - 1024));
        }
        Path dir = Files.createTempDirectory("keel-vhost-cost");
        Files.writeString(dir.resolve("config.json"), """
                {"subsystems": [{"subsystem": "bdev", "config": [{"method": "bdev_null_create",
                  "params": {"name": "Null0", "num_blocks": 2097152, "block_size": 512}}]}]}
                """);
        KeelApp app = KeelApp.create(AppOptions.defaults().withCores(CpuMask.of(0)).withInterruptMode(false)
                .withConfig(dir.resolve("config.json")).withRpcSocket(dir.resolve("rpc.sock")).withVhostSocketDir(dir));
        app.start();
        for (long end = System.nanoTime() + 10_000_000_000L; app.state() != KeelApp.State.RUNNING; Thread.sleep(10)) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException("the application did not start in 10 s (" + app.state() + ")");
            }
        }
        KeelThread thread = app.runtime().createThread("vhost_cost", CpuMask.of(0));
        VhostTargetCost bench = new VhostTargetCost(thread, qd, bytes);
        BdevDesc desc = on(thread, () -> BdevLayer.of(app).open("Null0", true, (e, b) -> { }));
        on(thread, () -> bench.start(desc));

        Thread.sleep((long) (warmup * 1000));
        List<Double> nsPerRequest = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            long c0 = on(thread, () -> bench.completed);
            long t0 = System.nanoTime();
            Thread.sleep((long) (seconds * 1000));
            long c1 = on(thread, () -> bench.completed);
            long t1 = System.nanoTime();
            double rate = (c1 - c0) * 1e9 / (t1 - t0);
            nsPerRequest.add(1e9 / rate);
            System.out.printf(Locale.ROOT, "round %d: %.2f M requests/s, %.1f ns per request%n", r + 1, rate / 1e6,
                    1e9 / rate);
        }
        Collections.sort(nsPerRequest);
        double median = nsPerRequest.get(nsPerRequest.size() / 2);
        System.out.printf(Locale.ROOT, "vhost target, QD%d, %d-byte reads: median %.1f ns per request (%.2f M/s)%n",
                qd, bytes, median, 1e3 / median);
        CompletableFuture<Void> released = new CompletableFuture<>();
        on(thread, () -> {
            bench.stop(() -> {
                desc.close();
                released.complete(null);
            });
            return null;
        });
        released.get(10, TimeUnit.SECONDS);
        app.shutdown();
        app.awaitExit(20_000);
        try (var left = Files.list(dir)) {
            for (Path p : left.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.delete(dir);
    }

    /** On the bench's thread: guest memory, the device, the queue, the chains, and the poller that drives them. */
    private Void start(BdevDesc desc) {
        arena = Arena.ofConfined();
        callState = Libc.callState(arena);
        int fd = SharedMemory.memfdCreate("vhost-cost", SharedMemory.MFD_CLOEXEC, callState);
        if (fd < 0 || SharedMemory.truncate(fd, MEMORY_BYTES, callState) != 0) {
            throw new IllegalStateException("memfd: " + Libc.strerror(-fd));
        }
        ram = SharedMemory.mapShared(fd, 0, MEMORY_BYTES, callState);
        memory = GuestMemory.map(List.of(new RegionSpec(0, MEMORY_BYTES, USER_VA, 0)), new int[] {fd},
                callState);
        Libc.closeQuietly(fd);
        driver = new SplitRingDriver(ram, RING);
        driver.availFlags(SplitRing.AVAIL_F_NO_INTERRUPT);
        device = new VirtioBlkDevice("vhost_cost", desc, false, 1);
        queue = new Virtqueue("vhost_cost", 0, device.maxSegments(), arena);
        queue.polled(true);
        queue.size(RING);
        queue.addresses(USER_VA, USER_VA + SplitRingDriver.availOffset(RING),
                USER_VA + SplitRingDriver.usedOffset(RING));
        queue.enabled(true);
        String refused = queue.start(memory, VirtioFeatures.bit(VirtioFeatures.RING_EVENT_IDX), null);
        if (refused != null) {
            throw new IllegalStateException(refused);
        }
        for (int c = 0; c < qd; c++) {
            long at = DATA + c * CHAIN_STRIDE;
            ram.set(ValueLayout.JAVA_INT_UNALIGNED, at, VirtioBlk.T_IN);
            ram.set(ValueLayout.JAVA_LONG_UNALIGNED, at + 8, (long) c * (CHAIN_STRIDE / 512));
            int head = 3 * c;
            driver.desc(head, at, VirtioBlk.HEADER_BYTES, SplitRing.DESC_F_NEXT, head + 1);
            driver.desc(head + 1, at + 512, bytes, SplitRing.DESC_F_WRITE | SplitRing.DESC_F_NEXT, head + 2);
            driver.desc(head + 2, at + 512 + bytes, 1, SplitRing.DESC_F_WRITE, 0);
            driver.makeAvailable(head);
        }
        driver.publish();
        poller = thread.registerPoller("vhost_cost", this::poll);
        return null;
    }

    /** The driver's turn (each completed head goes back in), then the device's (the queue's requests). */
    private int poll() {
        int used = driver.usedIdx();
        if (used != seenUsed) {
            for (; seenUsed != used; seenUsed = (seenUsed + 1) & 0xffff) {
                driver.makeAvailable(driver.usedId(seenUsed));
                completed++;
            }
            driver.publish();
        }
        queue.poll(device, 32);
        queue.signalIfNeeded();
        return PollerFn.BUSY;
    }

    private void stop(Runnable released) {
        poller.unregister();
        queue.stop();
        device.release(() -> {
            queue.detach();
            memory.retire(callState); // unmaps it: no request holds it now
            SharedMemory.unmap(ram, callState);
            arena.close();
            released.run();
        });
    }

    private static <T> T on(KeelThread t, Callable<T> c) {
        CompletableFuture<T> f = new CompletableFuture<>();
        t.send(() -> {
            try {
                f.complete(c.call());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        return f.orTimeout(20, TimeUnit.SECONDS).join();
    }
}
