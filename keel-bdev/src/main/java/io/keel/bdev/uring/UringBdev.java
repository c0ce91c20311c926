package io.keel.bdev.uring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.bdev.Bdev;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevModule;
import io.keel.bdev.IoType;
import io.keel.core.rpc.Json;
import io.keel.core.thread.IoDevice;
import java.util.EnumSet;
import java.util.UUID;

/**
 * A file or block device served through io_uring (SPDK's uring bdev), opened with O_DIRECT where the file
 * system allows it. Flush is fdatasync through the ring: once it completes, every write completed before it
 * is on stable storage. The write cache flag is on, so hosts know to send flushes.
 */
final class UringBdev extends Bdev {
    private final UringModule module;
    private final NativeFile file;

    UringBdev(UringModule module, String name, UUID uuid, NativeFile file, int blockSize, long numBlocks) {
        super(name, uuid, "URING bdev", blockSize, numBlocks,
                EnumSet.of(IoType.READ, IoType.WRITE, IoType.FLUSH, IoType.RESET));
        this.module = module;
        this.file = file;
        writeCache(true);
    }

    NativeFile file() {
        return file;
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
        UringChannel ch = io.moduleChannel();
        ch.submit(this, io);
    }

    @Override
    protected void destruct(Runnable done) {
        module.forget(this);
        file.close();
        done.run();
    }

    @Override
    public JsonNode driverSpecific() {
        ObjectNode o = Json.object();
        ObjectNode u = o.putObject("uring");
        u.put("filename", file.path().toString());
        u.put("o_direct", file.isDirect());
        return o;
    }

    ObjectNode createParams() {
        ObjectNode p = Json.object();
        p.put("name", name());
        p.put("filename", file.path().toString());
        p.put("block_size", blockSize());
        p.put("uuid", uuid().toString());
        return p;
    }
}
