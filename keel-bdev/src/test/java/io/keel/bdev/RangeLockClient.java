package io.keel.bdev;

import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.MemorySegment;

/**
 * A descriptor and a channel on one simulated thread, for range lock scenarios under {@link SimBdevLayer}: each call
 * runs on the thread (stepping the simulation until it has) and returns an {@link Outcome} that its completion
 * fills in later. Closes itself when told REMOVE.
 */
final class RangeLockClient {
    /** How a submission or a lock request ended: its return code at once, then (if 0) its completion. */
    static final class Outcome {
        private static long completions;
        int rc = 1;
        boolean done;
        BdevIoStatus status;
        int lockStatus;
        /** When it completed, in the order of every completion of the run. */
        long order;

        boolean accepted() {
            return rc == 0;
        }

        void complete() {
            done = true;
            order = ++completions;
        }

        @Override
        public String toString() {
            return "rc " + rc + (done ? ", done " + (status != null ? status : "status " + lockStatus) : ", pending");
        }
    }

    final SimBdevLayer s;
    final KeelThread thread;
    final BdevDesc desc;
    private final IoChannel<BdevChannel> channel;
    private final MemorySegment buffer;
    boolean closed;

    private RangeLockClient(SimBdevLayer s, KeelThread thread, String bdev) {
        this.s = s;
        this.thread = thread;
        this.desc = s.layer.open(bdev, true, (event, b) -> {
            if (event == BdevEvent.REMOVE) {
                closeHere();
            }
        });
        this.channel = desc.getIoChannel();
        this.buffer = MemorySegment.ofArray(new byte[128 * desc.bdev().blockSize()]);
    }

    static RangeLockClient open(SimBdevLayer s, KeelThread thread, String bdev) {
        return s.call(thread, () -> new RangeLockClient(s, thread, bdev));
    }

    BdevChannel channel() {
        return channel.context();
    }

    Outcome write(long offset, long blocks) {
        return io(IoType.WRITE, offset, blocks);
    }

    Outcome read(long offset, long blocks) {
        return io(IoType.READ, offset, blocks);
    }

    Outcome io(IoType type, long offset, long blocks) {
        Outcome o = new Outcome();
        BdevIoCallback cb = (io, success, arg) -> {
            o.status = io.status();
            io.free();
            o.complete();
        };
        s.run(thread, () -> {
            MemorySegment buf = buffer.asSlice(0, blocks * desc.bdev().blockSize());
            o.rc = switch (type) {
                case WRITE -> desc.write(channel(), buf, offset, blocks, cb, null);
                case READ -> desc.read(channel(), buf, offset, blocks, cb, null);
                case WRITE_ZEROES -> desc.writeZeroes(channel(), offset, blocks, cb, null);
                case UNMAP -> desc.unmap(channel(), offset, blocks, cb, null);
                default -> throw new IllegalArgumentException(type.toString());
            };
        });
        return o;
    }

    Outcome lock(long offset, long blocks) {
        Outcome o = new Outcome();
        s.run(thread, () -> o.rc = desc.lockLbaRange(channel(), offset, blocks, status -> {
            o.lockStatus = status;
            o.complete();
        }));
        return o;
    }

    /** As {@link #lock}, through {@link BdevDesc#tryLockLbaRange}: refused with -EBUSY rather than queued. */
    Outcome tryLock(long offset, long blocks) {
        Outcome o = new Outcome();
        s.run(thread, () -> o.rc = desc.tryLockLbaRange(channel(), offset, blocks, status -> {
            o.lockStatus = status;
            o.complete();
        }));
        return o;
    }

    Outcome unlock(long offset, long blocks) {
        Outcome o = new Outcome();
        s.run(thread, () -> o.rc = desc.unlockLbaRange(channel(), offset, blocks, status -> {
            o.lockStatus = status;
            o.complete();
        }));
        return o;
    }

    /** Writes waiting on this client's channel for an unlock. */
    int heldBack() {
        return s.call(thread, () -> channel().lockHeldBack());
    }

    /** Puts the channel and closes the descriptor. */
    void close() {
        s.run(thread, this::closeHere);
    }

    private void closeHere() {
        if (!closed) {
            closed = true;
            channel.put();
            desc.close();
        }
    }
}
