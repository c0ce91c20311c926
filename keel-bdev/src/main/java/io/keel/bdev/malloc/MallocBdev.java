package io.keel.bdev.malloc;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.Bdev;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.BdevModule;
import io.keel.bdev.DeferredCompletions;
import io.keel.bdev.IoType;
import io.keel.core.mem.NativeArena;
import io.keel.core.rpc.Json;
import io.keel.core.thread.IoDevice;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.UUID;

/** A bdev held in off-heap memory (SPDK's malloc bdev). Its memory is freed when it is destructed. */
final class MallocBdev extends Bdev {
    private final MallocModule module;
    private final NativeArena arena = new NativeArena();
    private final MemorySegment memory;
    private final int optimalIoBoundaryBlocks;

    MallocBdev(MallocModule module, String name, UUID uuid, int blockSize, long numBlocks, int optimalIoBoundary) {
        super(name, uuid, "Malloc disk", blockSize, numBlocks, EnumSet.of(IoType.READ, IoType.WRITE, IoType.UNMAP,
                IoType.FLUSH, IoType.RESET, IoType.WRITE_ZEROES, IoType.COMPARE));
        this.module = module;
        // mapped, not memset: no stall on the app thread; huge pages: random I/O over it misses the TLB less
        this.memory = arena.map(numBlocks * blockSize, 4096, true);
        this.optimalIoBoundaryBlocks = optimalIoBoundary;
        optimalIoBoundary(optimalIoBoundary);
        writeCache(false);
    }

    @Override
    public BdevModule module() {
        return module;
    }

    @Override
    protected IoDevice<?> moduleDevice() {
        return module.channels();
    }

    @Override
    protected void submit(BdevIo io) {
        long at = io.offsetBlocks() * blockSize();
        BdevIoStatus status = BdevIoStatus.SUCCESS;
        switch (io.type()) {
            case READ -> io.copyToBuffers(memory, at);
            case WRITE -> io.copyFromBuffers(memory, at);
            case COMPARE -> status = io.buffersEqual(memory, at) ? BdevIoStatus.SUCCESS : BdevIoStatus.MISCOMPARE;
            case UNMAP, WRITE_ZEROES -> memory.asSlice(at, io.lengthBytes()).fill((byte) 0);
            case FLUSH, RESET -> { } // memory is as stable as it gets; nothing is queued inside
        }
        DeferredCompletions done = io.moduleChannel();
        done.add(io, status);
    }

    @Override
    protected void destruct(Runnable done) {
        module.forget(this);
        arena.close();
        done.run();
    }

    /**
     * Writes every page once so each is backed by its own memory (a mapping's untouched pages all read from the
     * kernel's one zero page, which would make reads of a fresh malloc bdev unrealistically fast). Off-reactor.
     */
    void backAllPages() {
        for (long at = 0; at < memory.byteSize(); at += 4096) {
            memory.set(java.lang.foreign.ValueLayout.JAVA_BYTE, at, (byte) 0);
        }
    }

    /** Frees the memory of a bdev that never got registered. */
    void destructNow() {
        arena.close();
    }

    /** The parameters of {@code bdev_malloc_create} that recreate this bdev. */
    ObjectNode createParams() {
        ObjectNode p = Json.object();
        p.put("name", name());
        p.put("num_blocks", numBlocks());
        p.put("block_size", blockSize());
        p.put("physical_block_size", blockSize());
        p.put("uuid", uuid().toString());
        p.put("optimal_io_boundary", optimalIoBoundaryBlocks);
        p.put("md_size", 0);
        p.put("dif_type", 0);
        p.put("dif_is_head_of_md", false);
        p.put("dif_pi_format", 0);
        p.put("numa_id", -1);
        return p;
    }
}
