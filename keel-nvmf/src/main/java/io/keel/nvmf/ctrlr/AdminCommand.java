package io.keel.nvmf.ctrlr;

import io.keel.nvme.spec.Sqe;
import java.lang.foreign.MemorySegment;

/**
 * What a transport hands to the controller logic: one command of a queue, transport independent and socket
 * free. The SQE is a 64-byte view; {@link #data()} is the command's data buffer ({@link #length()} bytes from
 * offset 0): it holds the host's data for host-to-controller commands (Connect, Property Set has none) and is
 * filled by the controller for controller-to-host ones (Identify, Get Log Page). The controller answers with
 * {@link #complete} exactly once, at once or later (an Async Event Request is held), always on the owner thread.
 * A {@code TcpRequest} implements this by delegating to its own accessors.
 */
public interface AdminCommand {
    /** The command (valid until {@link #complete}). */
    Sqe sqe();

    /** The data buffer, or null when the command carries no data. */
    MemorySegment data();

    /**
     * The data in pieces, when a transport moves it in several buffers (RDMA above one data buffer): segments
     * {@code [0, dataPieceCount())} of this array, each whole, in order; {@link #data()} is then null. Only I/O
     * commands come in pieces.
     */
    default MemorySegment[] dataPieces() {
        return null;
    }

    /** How many of {@link #dataPieces()} hold the data; 0 when {@link #data()} holds it (or there is none). */
    default int dataPieceCount() {
        return 0;
    }

    /** Data length in bytes from the command's SGL (0 without data). */
    long length();

    /**
     * Completes the command: {@code statusField} is the CQE status field ({@code Status.field}, phase 0),
     * {@code dw0}/{@code dw1} the command specific dwords.
     */
    void complete(int statusField, int dw0, int dw1);
}
