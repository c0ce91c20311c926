package io.keel.bdev;

/** What tests in the modules' packages may see of the layer's internals. */
public final class BdevTestAccess {
    private BdevTestAccess() {
    }

    /** Channels of the bdev now (live or still releasing their I/O). */
    public static int channelCount(Bdev b) {
        return b.channelDevice().channelCount();
    }
}
