package io.keel.bdev.error;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoCallback;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.IoType;
import io.keel.bdev.VirtualBdev;
import io.keel.bdev.VirtualBdevChannel;
import io.keel.core.rpc.Json;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.MemorySegment;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An error injection bdev (SPDK's {@code vbdev_error}, "EE_&lt;base&gt;"): passes I/O to its base like passthru,
 * except for the I/O that an injection ({@code bdev_error_inject_error}) picks. For each of read, write, unmap and
 * flush there is one injection: an error type, how many I/O it still applies to ({@code num}, taken one per I/O
 * across all threads), and the queue depth from which it applies (I/O this thread has in flight to the base).
 * <ul>
 * <li>failure: completed FAILED; nvme_failure: completed with the NVMe status (sct, sc); nomem: completed NOMEM,
 * which the layer queues and resubmits (the next attempt takes the next injection, or goes through);</li>
 * <li>pending: held, uncompleted, until a RESET through this bdev completes it ABORTED (then the reset succeeds;
 * it is not passed to the base), or {@code bdev_error_resume_pending} submits it again;</li>
 * <li>corrupt_data: passed through, with corrupt_value XORed into the byte at corrupt_offset of the data: a
 * write's before it goes down, a read's after it came back successfully.</li>
 * </ul>
 * Held I/O is also aborted when this bdev is deleted or its base removed, so a user draining its I/O never waits
 * for an I/O nobody will complete.
 */
final class ErrorBdev extends VirtualBdev {
    private static final BdevIoCallback CHILD_DONE = ErrorBdev::childDone;
    /** {@link BdevIo#moduleValue} of a forwarded I/O whose data is to be corrupted on its way back. */
    private static final long CORRUPT_ON_COMPLETION = 1;

    /** One injection: written by the RPC on the application thread, read on the I/O threads. */
    static final class Injection {
        volatile ErrorType type = ErrorType.FAILURE;
        /** I/O it still applies to. */
        final AtomicLong num = new AtomicLong();
        volatile long queueDepth;
        volatile long corruptOffset;
        volatile int corruptValue;
        volatile int nvmeSct;
        volatile int nvmeSc;

        /** Takes one of the injections left, if any and if {@code inflight} reaches the queue depth. */
        boolean take(long inflight) {
            if (inflight < queueDepth) {
                return false;
            }
            long n = num.get();
            while (n > 0) {
                if (num.compareAndSet(n, n - 1)) {
                    return true;
                }
                n = num.get();
            }
            return false;
        }
    }

    /** Indexed by {@link #slot}: read, write, unmap, flush. */
    private final Injection[] injections = {new Injection(), new Injection(), new Injection(), new Injection()};

    ErrorBdev(ErrorModule module, String name, UUID uuid, BdevDesc base) {
        super(module, name, uuid, "Error Injection Disk", base);
    }

    @Override
    protected VirtualBdevChannel newChannel(KeelThread t) {
        return new ErrorChannel(this);
    }

    /** One thread's context: its base channel, its I/O in flight to the base, the I/O it holds pending. */
    static final class ErrorChannel extends VirtualBdevChannel {
        long inflight;
        private BdevIo pendingHead;
        private BdevIo pendingTail;
        int pending;

        ErrorChannel(ErrorBdev bdev) {
            super(bdev);
        }

        void hold(BdevIo io) {
            io.moduleNext = null;
            if (pendingTail == null) {
                pendingHead = io;
            } else {
                pendingTail.moduleNext = io;
            }
            pendingTail = io;
            pending++;
        }

        /** Detaches the held I/O (a list linked by moduleNext). */
        BdevIo takePending() {
            BdevIo head = pendingHead;
            pendingHead = null;
            pendingTail = null;
            pending = 0;
            return head;
        }

        void abortPending() {
            BdevIo io = takePending();
            while (io != null) {
                BdevIo next = io.moduleNext;
                io.moduleNext = null;
                io.complete(BdevIoStatus.ABORTED);
                io = next;
            }
        }

        @Override
        protected void onDestroy() {
            abortPending(); // never lose an I/O, even one whose user let its channel go first
        }
    }

    Injection injection(IoType t) {
        return injections[slot(t)];
    }

    /** The injection slot of an I/O type, or -1 for types that never get an error. */
    private static int slot(IoType t) {
        return switch (t) {
            case READ -> 0;
            case WRITE -> 1;
            case UNMAP -> 2;
            case FLUSH -> 3;
            default -> -1;
        };
    }

    // ---- I/O ----

    @Override
    protected void submit(BdevIo io) {
        ErrorChannel ch = io.moduleChannel();
        if (io.type() == IoType.RESET) {
            reset(io);
            return;
        }
        int slot = slot(io.type());
        Injection inj = slot < 0 ? null : injections[slot];
        if (inj == null || !inj.take(ch.inflight)) {
            passDown(ch, io, false);
            return;
        }
        switch (inj.type) {
            case FAILURE -> io.complete(BdevIoStatus.FAILED);
            case NVME_FAILURE -> io.completeNvme(inj.nvmeSct, inj.nvmeSc);
            case NOMEM -> io.complete(BdevIoStatus.NOMEM);
            case PENDING -> ch.hold(io);
            case CORRUPT_DATA -> {
                if (io.type() == IoType.WRITE) {
                    corrupt(io, inj.corruptOffset, inj.corruptValue);
                }
                passDown(ch, io, io.type() == IoType.READ);
            }
        }
    }

    private void passDown(ErrorChannel ch, BdevIo io, boolean corruptOnCompletion) {
        io.moduleValue = corruptOnCompletion ? CORRUPT_ON_COMPLETION : 0;
        ch.inflight++;
        if (!forward(0, io, CHILD_DONE)) {
            ch.inflight--;
        }
    }

    private static void childDone(BdevIo child, boolean success, Object arg) {
        BdevIo parent = (BdevIo) arg;
        ErrorChannel ch = parent.moduleChannel();
        ch.inflight--;
        if (child.status() == BdevIoStatus.SUCCESS && parent.moduleValue == CORRUPT_ON_COMPLETION) {
            Injection inj = ((ErrorBdev) parent.bdev()).injection(IoType.READ);
            corrupt(parent, inj.corruptOffset, inj.corruptValue); // the parent's buffers, which the child shared
        }
        completeFromChild(parent, child);
    }

    /** XORs {@code value} into the byte at {@code offset} of the I/O's data (nothing if past its end). */
    private static void corrupt(BdevIo io, long offset, int value) {
        long at = offset;
        for (int i = 0; i < io.iovCount(); i++) {
            MemorySegment seg = io.iov(i);
            if (at < io.iovLength(i)) {
                long where = io.iovOffset(i) + at;
                seg.set(JAVA_BYTE, where, (byte) (seg.get(JAVA_BYTE, where) ^ value));
                return;
            }
            at -= io.iovLength(i);
        }
    }

    /** A reset: every thread's held I/O is completed ABORTED, then the reset succeeds (not passed to the base). */
    private void reset(BdevIo resetIo) {
        forEachContext(ch -> ((ErrorChannel) ch).abortPending(), () -> resetIo.complete(BdevIoStatus.SUCCESS));
    }

    /** Aborts what every thread holds (deletion, base removal). Lightweight thread. */
    void abortAllPending() {
        forEachContext(ch -> ((ErrorChannel) ch).abortPending(), () -> { });
    }

    /** Submits again what every thread holds ({@code bdev_error_resume_pending}). Lightweight thread. */
    void resumeAllPending() {
        forEachContext(ch -> {
            BdevIo io = ((ErrorChannel) ch).takePending();
            while (io != null) {
                BdevIo next = io.moduleNext;
                io.moduleNext = null;
                submit(io);
                io = next;
            }
        }, () -> { });
    }

    @Override
    public JsonNode driverSpecific() {
        ObjectNode o = Json.object();
        o.putObject("error_disk").put("base_bdev", base(0).bdev().name());
        return o;
    }
}
