package io.keel.bdev.exec;

import io.keel.bdev.Bdev;
import io.keel.bdev.BdevIo;
import io.keel.bdev.BdevModule;
import io.keel.bdev.IoType;
import io.keel.core.thread.IoDevice;
import io.keel.core.thread.KeelThread;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A test bdev that holds every I/O until the test ends it, on the thread that submitted it: what a request
 * executor's tests need to have requests at the bdev for as long as they like. Each thread's I/O is kept in
 * arrival order, and what arrived is logged as "TYPE offset+blocks/bytes". No flush (-ENOTSUP).
 */
final class HeldBdev extends Bdev {
    static final BdevModule MODULE = () -> "held";
    static final int BLOCK = 512;
    /** Small enough (512 KiB) that no module reads it when it registers (raid looks for superblocks over 1 MiB). */
    static final int BLOCKS = 1024;

    private final Map<KeelThread, Held> byThread = new ConcurrentHashMap<>();
    private final IoDevice<Held> device = IoDevice.register("held_module", t -> byThread.computeIfAbsent(t,
            k -> new Held()), h -> { });

    /** One thread's I/O at the bdev, oldest first, and the log of what arrived. */
    static final class Held {
        final ArrayDeque<BdevIo> ios = new ArrayDeque<>();
        final List<String> arrived = new ArrayList<>();
    }

    HeldBdev(String name) {
        super(name, null, "held disk", BLOCK, BLOCKS, EnumSet.of(IoType.READ, IoType.WRITE, IoType.COMPARE,
                IoType.UNMAP, IoType.WRITE_ZEROES));
    }

    @Override
    public BdevModule module() {
        return MODULE;
    }

    @Override
    protected IoDevice<?> moduleDevice() {
        return device;
    }

    @Override
    protected void submit(BdevIo io) {
        Held h = io.moduleChannel();
        h.ios.add(io);
        h.arrived.add(io.type() + " " + io.offsetBlocks() + "+" + io.numBlocks() + "/" + io.lengthBytes());
    }

    /** The calling thread's held I/O (on a thread that has a channel to this bdev). */
    Held held() {
        return byThread.get(KeelThread.current());
    }
}
