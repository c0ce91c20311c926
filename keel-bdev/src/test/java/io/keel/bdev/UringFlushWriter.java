package io.keel.bdev;

import io.keel.core.app.AppOptions;
import io.keel.core.app.KeelApp;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * The process {@link UringFlushSurvivesKillTest} kills: loads a config with a uring bdev, writes blocks
 * 0..N-1, flushes, prints FLUSHED, then keeps overwriting blocks N..2N-1 without flushing until killed.
 */
public final class UringFlushWriter {
    public static void main(String[] args) throws Exception {
        Path config = Path.of(args[0]);
        int blocks = Integer.parseInt(args[1]);
        KeelApp app = KeelApp.create(AppOptions.defaults().withCores(CpuMask.of(0)).withInterruptMode(true)
                .withRpcSocket(Path.of(args[2])).withConfig(config));
        app.start();
        while (app.state() != KeelApp.State.RUNNING) {
            Thread.sleep(10);
        }
        BdevLayer layer = BdevLayer.of(app);
        KeelThread t = app.runtime().createThread("writer", CpuMask.of(0));
        Arena arena = Arena.ofShared();
        int bs = 4096;
        MemorySegment buf = arena.allocate((long) blocks * bs, 4096);
        for (int b = 0; b < blocks; b++) {
            IoLoop.fill(buf.asSlice((long) b * bs, bs), b);
        }
        CompletableFuture<Boolean> flushed = new CompletableFuture<>();
        t.send(() -> {
            BdevDesc d = layer.open("U0", true, (e, x) -> { });
            IoChannel<BdevChannel> ch = d.getIoChannel();
            d.write(ch.context(), buf, 0, blocks, (io, ok, a) -> {
                io.free();
                d.flush(ch.context(), 0, blocks, (io2, ok2, a2) -> {
                    io2.free();
                    flushed.complete(ok && ok2);
                    scribble(d, ch.context(), arena.allocate(bs, 4096), blocks, 0);
                }, null);
            }, null);
        });
        if (!flushed.get()) {
            System.out.println("FAILED");
            System.exit(1);
        }
        System.out.println("FLUSHED");
        System.out.flush();
        Files.writeString(Path.of(args[2] + ".flushed"), "yes");
        Thread.sleep(60_000); // the test kills us long before this
    }

    /** Unflushed overwrites past the flushed range, forever: what a kill interrupts. */
    private static void scribble(BdevDesc d, BdevChannel ch, MemorySegment junk, int blocks, long n) {
        junk.fill((byte) n);
        d.write(ch, junk, blocks + (n % blocks), 1, (io, ok, a) -> {
            io.free();
            scribble(d, ch, junk, blocks, n + 1);
        }, null);
    }
}
