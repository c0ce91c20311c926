package io.keel.nvmf.rdma;

/**
 * How a keyed command's data is cut (SPDK's {@code nvmf_rdma_request_fill_iovs}): up to one data buffer it moves in
 * one buffer of its length; above, in buffers of the poll group's data buffer size, the last cut to what is left;
 * each RDMA READ or WRITE work request gathers up to the queue pair's scatter/gather entries of them, so a command
 * takes ceil(buffers / entries) data work requests. Pure arithmetic, tested on its own.
 */
final class DataPieces {
    private DataPieces() {
    }

    /** Data buffers a transfer of {@code length} bytes (at least 1) takes with buffers of {@code bufferSize}. */
    static int buffers(long length, long bufferSize) {
        return (int) ((length + bufferSize - 1) / bufferSize);
    }

    /** Bytes of piece {@code i} of a {@code length}-byte transfer cut into {@code bufferSize} pieces. */
    static long pieceLength(long length, long bufferSize, int i) {
        return Math.min(bufferSize, length - i * bufferSize);
    }

    /** Work requests {@code buffers} data buffers take at {@code sgePerWr} entries per work request. */
    static int workRequests(int buffers, int sgePerWr) {
        return (buffers + sgePerWr - 1) / sgePerWr;
    }

    /**
     * Whether {@code n} more of a pool bounded by {@code limit} with {@code inUse} taken may be taken: within the
     * bound, or when nothing is taken (a command larger than the whole bound still moves, alone: no hang).
     */
    static boolean fits(int inUse, int n, int limit) {
        return inUse + n <= limit || inUse == 0;
    }
}
