package io.keel.app.perf;

import io.keel.nvme.host.HostQpair;
import io.keel.nvme.host.HostRequest;
import io.keel.nvme.host.HostStatus;
import io.keel.nvme.host.NamespaceData;
import io.keel.nvme.spec.Opcode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * {@code --check}: before the timed run, writes a seeded pattern of one I/O size at the last I/O-sized slot of
 * the namespace through an I/O queue, reads it back into another buffer and compares: a functional test of the
 * write path (in capsule or R2T) and the read path against a real controller. Runs on the queue's thread as two
 * commands, each completion taking the next step; the caller bounds the wait.
 */
final class WriteReadCheck {
    private final HostQpair q;
    private final NamespaceData ns;
    private final int ioSize;
    private final int blocks;
    private final long slba;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment out;
    private final MemorySegment back;
    private final Consumer<String> done;

    private WriteReadCheck(HostQpair q, NamespaceData ns, PerfOptions o, Consumer<String> done) {
        this.q = q;
        this.ns = ns;
        this.ioSize = o.ioSize();
        this.blocks = o.ioSize() / ns.blockSize();
        this.slba = (ns.blocks() / blocks - 1) * blocks;
        this.done = done;
        out = arena.allocate(ioSize, 4096);
        back = arena.allocate(ioSize, 4096);
        SplittableRandom r = new SplittableRandom(o.seed());
        for (long i = 0; i + 8 <= out.byteSize(); i += 8) {
            out.set(ValueLayout.JAVA_LONG_UNALIGNED, i, r.nextLong());
        }
    }

    /**
     * Starts the check on {@code q} (its owner thread); {@code done} hears, on that thread, a description of
     * what was checked when the data came back identical, or an error text starting with "check:".
     */
    static void start(HostQpair q, NamespaceData ns, PerfOptions o, Consumer<String> done) {
        new WriteReadCheck(q, ns, o, done).write();
    }

    private void write() {
        submit(true, out, (a, st, res) -> {
            if (st != 0) {
                end("check: write at LBA " + slba + " of NSID " + ns.nsid() + " failed: " + HostStatus.describe(st));
            } else {
                read();
            }
        });
    }

    private void read() {
        submit(false, back, (a, st, res) -> {
            if (st != 0) {
                end("check: read at LBA " + slba + " of NSID " + ns.nsid() + " failed: " + HostStatus.describe(st));
                return;
            }
            long at = out.mismatch(back);
            end(at >= 0 ? "check: data read back from LBA " + slba + " of NSID " + ns.nsid() + " differs at byte " + at
                    : "NSID " + ns.nsid() + ": wrote " + ioSize + " bytes at LBA " + slba
                            + ", read them back: identical");
        });
    }

    private void submit(boolean write, MemorySegment buf, io.keel.nvme.host.HostCompletion cb) {
        HostRequest r = q.allocate();
        if (r == null) {
            end("check: no request free on I/O queue " + q.qid());
            return;
        }
        r.sqe().opcode(write ? Opcode.WRITE : Opcode.READ).nsid(ns.nsid()).rw().slba(slba).blockCount(blocks);
        r.toController(write).segment(buf, 0, ioSize);
        if (q.submit(r, cb, null) != 0) {
            end("check: I/O queue " + q.qid() + " is " + q.state());
        }
    }

    /** The buffers go once no command of the check can use them: every path here is after its last completion. */
    private void end(String result) {
        arena.close();
        done.accept(result);
    }
}
