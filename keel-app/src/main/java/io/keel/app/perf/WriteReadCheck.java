package io.keel.app.perf;

import io.keel.nvme.host.Namespace;
import io.keel.nvme.host.TcpController;
import io.keel.nvme.host.TcpQpair;
import io.keel.nvme.spec.Opcode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * {@code --check}: before the timed run, writes a seeded pattern of one I/O size at the last I/O-sized slot of
 * the namespace through an I/O queue, reads it back into another buffer and compares: a functional test of
 * the write path (in capsule or R2T) and the read path against a real controller.
 */
final class WriteReadCheck {
    private WriteReadCheck() {
    }

    /** Returns a description of what was checked; throws if the data came back different. */
    static String run(TcpQpair q, Namespace ns, PerfOptions o, Duration timeout) throws IOException {
        int blocks = o.ioSize() / ns.blockSize();
        long slba = (ns.blocks() / blocks - 1) * blocks;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(o.ioSize(), 4096);
            MemorySegment back = a.allocate(o.ioSize(), 4096);
            SplittableRandom r = new SplittableRandom(o.seed());
            for (long i = 0; i + 8 <= out.byteSize(); i += 8) {
                out.set(ValueLayout.JAVA_LONG_UNALIGNED, i, r.nextLong());
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            q.command().opcode(Opcode.WRITE).nsid(o.nsid()).rw().slba(slba).blockCount(blocks);
            int st = q.execute(0, true, out, 0, o.ioSize(), deadline);
            if (st != 0) {
                throw new IOException("check: write at LBA " + slba + " failed: " + TcpController.describe(st));
            }
            q.command().opcode(Opcode.READ).nsid(o.nsid()).rw().slba(slba).blockCount(blocks);
            st = q.execute(0, false, back, 0, o.ioSize(), deadline);
            if (st != 0) {
                throw new IOException("check: read at LBA " + slba + " failed: " + TcpController.describe(st));
            }
            long at = out.mismatch(back);
            if (at >= 0) {
                throw new IOException("check: data read back from LBA " + slba + " differs at byte " + at);
            }
            return "wrote " + o.ioSize() + " bytes at LBA " + slba + ", read them back: identical";
        }
    }
}
