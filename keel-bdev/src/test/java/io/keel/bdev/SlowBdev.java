package io.keel.bdev;

import io.keel.core.thread.IoDevice;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * A test bdev for the simulation whose I/O stays in flight for a while: each poll of a thread's queue completes each
 * of its I/Os with chance {@link #COMPLETION_CHANCE}. It stores nothing (reads return whatever the buffer held) and
 * shows the writes it is running now, so a test can check what overlaps what. Single OS thread (the simulation): its
 * shared fields are plain.
 */
final class SlowBdev extends Bdev {
    static final BdevModule MODULE = () -> "slow";
    /** Chance that a poll completes a given I/O. */
    private static final double COMPLETION_CHANCE = 0.3;

    private final IoDevice<Queue> device = IoDevice.register("slow_module", Queue::new, Queue::close);
    private final SplittableRandom random;
    /** Writes (write, write zeroes, unmap) the module is running now, in the order they arrived. */
    final List<BdevIo> writing = new ArrayList<>();
    /** Told of each write as it arrives, before it joins {@link #writing}. */
    Consumer<BdevIo> onWrite = io -> { };

    SlowBdev(String name, long numBlocks, SplittableRandom random) {
        super(name, null, "slow disk", 512, numBlocks, EnumSet.of(IoType.READ, IoType.WRITE, IoType.WRITE_ZEROES,
                IoType.UNMAP));
        this.random = random;
    }

    /** One thread's I/O in flight, completed by its poller. */
    final class Queue {
        private final List<BdevIo> ios = new ArrayList<>();
        private final Poller poller;

        Queue(KeelThread t) {
            poller = t.registerPoller("slow_poller", this::poll);
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
                    BdevIo io = ios.remove(i);
                    writing.remove(io);
                    io.complete(BdevIoStatus.SUCCESS);
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
        if (io.type().modifies()) {
            onWrite.accept(io);
            writing.add(io);
        }
        Queue q = io.moduleChannel();
        q.add(io);
    }
}
