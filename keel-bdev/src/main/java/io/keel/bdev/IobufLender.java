package io.keel.bdev;

import io.keel.core.iobuf.IoBuf;
import io.keel.core.iobuf.IoBufSubsystem;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Lends iobuf data buffers to reads submitted without one ({@link BdevDesc#readPooled}), through each thread's
 * "bdev" iobuf channel (kept in that thread's {@link BdevThreadCache}). When iobuf is dry the read waits in
 * iobuf's FIFO queue (its waiter is part of the pooled bdev_io: no allocation) and starts when a buffer comes.
 */
final class IobufLender implements BufferLender {
    /** The bdev subsystem initialises after iobuf, as SPDK's does. */
    static final List<String> DEPENDENCIES = List.of(IoBufSubsystem.NAME);

    private final IoBuf iobuf;

    IobufLender(IoBuf iobuf) {
        this.iobuf = iobuf;
    }

    @Override
    public boolean canLend(long bytes) {
        return bytes <= iobuf.largeBufsize();
    }

    @Override
    public void lend(BdevChannel ch, BdevIo io) {
        MemorySegment buf = ch.threadCache().iobuf().get(io.lengthBytes(), io.bufferWaiter);
        if (buf != null) {
            io.attachPooled(buf);
            ch.start(io);
        }
        // else: iobuf calls io.bufferWaiter on this thread when a buffer is free, which starts the io
    }

    @Override
    public void giveBack(BdevChannel ch, MemorySegment buf) {
        ch.threadCache().iobuf().put(buf);
    }
}
