package io.keel.vhost.initiator;

import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoCallback;
import io.keel.bdev.passthru.VbdevHarness;
import io.keel.bdev.passthru.VbdevHarness.Handle;
import java.lang.foreign.MemorySegment;

/**
 * I/O kept in flight on the harness's worker thread through a {@link Handle}: writes and reads of 4 KiB in turn, each
 * slot submitting again when its I/O ends, until a submission is refused (the descriptor closed on REMOVE). Counts
 * what succeeded and failed; {@link #inFlight} is 0 once everything ended.
 */
final class Load implements BdevIoCallback {
    private final VbdevHarness h;
    private final Handle handle;
    private final MemorySegment[] bufs;
    volatile long ok;
    volatile long failed;
    volatile int inFlight;

    Load(VbdevHarness h, Handle handle, int depth) {
        this.h = h;
        this.handle = handle;
        bufs = new MemorySegment[depth];
        for (int i = 0; i < depth; i++) {
            bufs[i] = h.pattern(4096, i);
        }
    }

    void start() {
        h.worker.send(() -> {
            for (int i = 0; i < bufs.length; i++) {
                submit(i, true);
            }
        });
    }

    private void submit(int slot, boolean write) {
        Integer arg = slot * 2 + (write ? 1 : 0);
        long block = 8L * slot;
        int rc = write ? handle.desc.write(handle.channel(), bufs[slot], block, 8, this, arg)
                : handle.desc.read(handle.channel(), bufs[slot], block, 8, this, arg);
        if (rc == 0) {
            inFlight++;
        }
    }

    @Override
    public void done(BdevIo io, boolean success, Object arg) {
        io.free();
        inFlight--;
        if (success) {
            ok++;
        } else {
            failed++;
        }
        int a = (Integer) arg;
        if (!handle.removed) {
            submit(a / 2, (a & 1) == 0);
        }
    }
}
