package io.keel.bdev.nul;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.Bdev;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevIoStatus;
import io.keel.bdev.BdevModule;
import io.keel.bdev.DeferredCompletions;
import io.keel.bdev.IoType;
import io.keel.core.rpc.Json;
import io.keel.core.thread.IoDevice;
import java.util.EnumSet;
import java.util.UUID;

/** A bdev that stores nothing (SPDK's null bdev): writes vanish, reads leave the buffer as it was. */
final class NullBdev extends Bdev {
    private final NullModule module;

    NullBdev(NullModule module, String name, UUID uuid, int blockSize, long numBlocks) {
        super(name, uuid, "Null disk", blockSize, numBlocks,
                EnumSet.of(IoType.READ, IoType.WRITE, IoType.RESET, IoType.WRITE_ZEROES, IoType.FLUSH));
        this.module = module;
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
        DeferredCompletions done = io.moduleChannel();
        done.add(io, BdevIoStatus.SUCCESS);
    }

    @Override
    protected void destruct(Runnable done) {
        module.forget(this);
        done.run();
    }

    ObjectNode createParams() {
        ObjectNode p = Json.object();
        p.put("name", name());
        p.put("num_blocks", numBlocks());
        p.put("block_size", blockSize());
        p.put("physical_block_size", blockSize());
        p.put("md_size", 0);
        p.put("dif_type", 0);
        p.put("dif_is_head_of_md", false);
        p.put("dif_pi_format", 0);
        p.put("uuid", uuid().toString());
        for (String k : new String[] {"preferred_write_granularity", "preferred_write_alignment", "optimal_write_size",
            "preferred_unmap_granularity", "preferred_unmap_alignment"}) {
            p.put(k, 0);
        }
        return p;
    }
}
