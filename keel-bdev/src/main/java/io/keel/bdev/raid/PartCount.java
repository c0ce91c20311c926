package io.keel.bdev.raid;

import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoStatus;

/**
 * A raid I/O split into parts ({@code raid_bdev_io_complete_part}), counted in the parent's
 * {@link BdevIo#moduleValue}: the parts not yet ended in the low 32 bits, and whether any part failed or succeeded.
 * The count starts at one for the submitter, so parts that end while it is still submitting cannot end the parent.
 */
final class PartCount {
    private static final long PENDING = 0xFFFF_FFFFL;
    private static final long FAILED = 1L << 32;
    private static final long SUCCEEDED = 1L << 33;
    /** The parent succeeds if any part did (raid1 writes); else only if every part did. */
    private static final long ANY_SUFFICES = 1L << 34;

    private PartCount() {
    }

    /** Starts counting the parts of {@code parent}; {@code anySuffices}: one good part is enough. */
    static void begin(BdevIo parent, boolean anySuffices) {
        parent.moduleValue = 1 | (anySuffices ? ANY_SUFFICES : 0);
    }

    /** A part was submitted. */
    static void add(BdevIo parent) {
        parent.moduleValue++;
    }

    /** A part could not start: it counts as failed. */
    static void failed(BdevIo parent) {
        parent.moduleValue |= FAILED;
    }

    /** A part ended; the last one ends the parent. */
    static void end(BdevIo parent, boolean success) {
        release(parent, success ? SUCCEEDED : FAILED);
    }

    /** The submitter is done submitting parts. */
    static void submitted(BdevIo parent) {
        release(parent, 0);
    }

    private static void release(BdevIo parent, long outcome) {
        long v = (parent.moduleValue | outcome) - 1;
        parent.moduleValue = v;
        if ((v & PENDING) != 0) {
            return;
        }
        boolean ok = (v & ANY_SUFFICES) != 0 ? (v & SUCCEEDED) != 0 : (v & FAILED) == 0;
        parent.complete(ok ? BdevIoStatus.SUCCESS : BdevIoStatus.FAILED);
    }
}
