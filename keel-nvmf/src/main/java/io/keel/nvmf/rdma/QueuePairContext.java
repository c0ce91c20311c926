package io.keel.nvmf.rdma;

/**
 * The {@code qp_context} a poll group gives each queue pair it makes, and by which the device's async events (read on
 * the application thread) find the queue pair's owner: the group's index + 1 (0 names no group), the qpair's slot in
 * the group and the slot's generation (a slot reused after a destroy does not take the old queue pair's events).
 */
final class QueuePairContext {
    private QueuePairContext() {
    }

    static long of(int group, int slot, int generation) {
        return (long) (group + 1) << 32 | (long) (slot & 0xFFFF) << 16 | generation & 0xFFFF;
    }

    /** The group's index, or -1 for a context no group made. */
    static int group(long context) {
        return (int) (context >>> 32) - 1;
    }

    static int slot(long context) {
        return (int) (context >>> 16) & 0xFFFF;
    }

    static int generation(long context) {
        return (int) context & 0xFFFF;
    }
}
