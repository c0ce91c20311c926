package io.keel.bdev.raid;

import io.keel.bdev.Bdev;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.BdevModule;
import io.keel.bdev.IoType;
import io.keel.core.thread.IoDevice;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A test bdev for the simulation that holds its blocks in memory and takes its time: each poll of a thread's queue
 * finishes each of its I/Os with chance {@link #COMPLETION_CHANCE}, and only then does a write land or a read copy
 * out, so I/Os to the same blocks from several threads land in any order. A read fails with chance
 * {@code readFailure} instead. Single OS thread (the simulation): its shared fields are plain.
 */
final class FlakyMemoryBdev extends Bdev {
    private static final BdevModule MODULE = () -> "flaky_memory";
    private static final double COMPLETION_CHANCE = 0.3;

    private final byte[] data;
    private final IoDevice<Queue> device;
    private final SplittableRandom random;
    private final double readFailure;
    long readsFailed;

    FlakyMemoryBdev(String name, long numBlocks, SplittableRandom random, double readFailure) {
        super(name, null, "flaky memory disk", 512, numBlocks, EnumSet.of(IoType.READ, IoType.WRITE));
        this.data = new byte[Math.toIntExact(numBlocks * 512)];
        this.device = IoDevice.register("flaky_memory_" + name, Queue::new, Queue::close);
        this.random = random;
        this.readFailure = readFailure;
    }

    /** What the bdev holds now (a copy). */
    byte[] contents() {
        return data.clone();
    }

    /** One thread's I/O in flight, finished by its poller. */
    final class Queue {
        private final List<BdevIo> ios = new ArrayList<>();
        private final Poller poller;

        Queue(KeelThread t) {
            poller = t.registerPoller("flaky_memory_poller", this::poll);
            poller.pause();
        }

        void add(BdevIo io) {
            ios.add(io);
            poller.resume();
        }

        /** Runs only while I/O is queued, and always reports work: the simulation must not take it for quiet. */
        private int poll() {
            for (int i = 0; i < ios.size(); ) {
                if (random.nextDouble() < COMPLETION_CHANCE) {
                    finish(ios.remove(i));
                } else {
                    i++;
                }
            }
            if (ios.isEmpty()) {
                poller.pause();
            }
            return PollerFn.BUSY;
        }

        void close() {
            poller.unregister();
        }
    }

    private void finish(BdevIo io) {
        MemorySegment blocks = MemorySegment.ofArray(data);
        long at = io.offsetBlocks() * blockSize();
        if (io.type() == IoType.WRITE) {
            io.copyFromBuffers(blocks, at);
        } else if (random.nextDouble() < readFailure) {
            readsFailed++;
            io.complete(BdevIoStatus.FAILED);
            return;
        } else {
            io.copyToBuffers(blocks, at);
        }
        io.complete(BdevIoStatus.SUCCESS);
    }

    @Override
    public BdevModule module() {
        return MODULE;
    }

    @Override
    protected IoDevice<?> moduleDevice() {
        return device;
    }

    @Override
    protected void submit(BdevIo io) {
        Queue q = io.moduleChannel();
        q.add(io);
    }
}
