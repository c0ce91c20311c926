package io.keel.bdev;

import io.keel.core.rpc.Errno;
import io.keel.core.thread.IoDevice;
import io.keel.core.thread.KeelThread;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * A bdev built on other bdevs, its bases: passthru, delay and error on one, a RAID on several. It keeps, by slot, the
 * descriptors its module opened and claimed on them ({@link VirtualBdevModule}); a slot may be empty, and the bases
 * of a registered bdev may change ({@link #addBase}, {@link #removeBase}). Its io_device's context on each thread
 * ({@link VirtualBdevChannel}) holds that thread's channel to each base; {@link #forward} passes an I/O down through
 * it on the submitting thread, as a child that shares the parent's buffers and has the parent as its callback
 * argument, so nothing is allocated per I/O (more per-I/O state goes in {@link BdevIo#moduleContext},
 * {@link BdevIo#moduleValue} and {@link BdevIo#moduleNext}). Once its descriptors and channels are gone,
 * {@link #destruct} waits for the contexts to put their base channels, then closes each base descriptor on its
 * thread, which releases the claim and lets the base's own removal finish.
 */
public abstract class VirtualBdev extends Bdev {
    /** A child's callback that ends its parent (the callback argument) as the child ended. Shared by every I/O. */
    protected static final BdevIoCallback COMPLETE_PARENT =
            (child, success, parent) -> completeFromChild((BdevIo) parent, child);

    private final VirtualBdevModule<?, ?> module;
    private final IoDevice<VirtualBdevChannel> channels;
    /** The bases by slot (null: empty). Replaced whole when a slot changes, so every I/O thread reads one snapshot. */
    private volatile BdevDesc[] bases;

    /** A bdev on bases by slot ({@code bases} may hold nulls: empty slots), with the geometry its module chose. */
    protected VirtualBdev(VirtualBdevModule<?, ?> module, String name, UUID uuid, String productName, int blockSize,
            long numBlocks, Set<IoType> ioTypes, List<BdevDesc> bases) {
        super(name, uuid, productName, blockSize, numBlocks, ioTypes);
        this.module = module;
        this.bases = bases.toArray(new BdevDesc[0]);
        this.channels = IoDevice.register(module.name() + "_" + name, this::newChannel, VirtualBdevChannel::destroy);
    }

    /** A bdev on one base, with the base's geometry, supported I/O types, write cache and optimal I/O boundary. */
    protected VirtualBdev(VirtualBdevModule<?, ?> module, String name, UUID uuid, String productName, BdevDesc base) {
        this(module, name, uuid, productName, base.bdev().blockSize(), base.bdev().numBlocks(),
                base.bdev().supportedIoTypes(), List.of(base));
        writeCache(base.bdev().writeCache());
        optimalIoBoundary(base.bdev().optimalIoBoundary());
    }

    @Override
    public final VirtualBdevModule<?, ?> module() {
        return module;
    }

    @Override
    protected final IoDevice<?> moduleDevice() {
        return channels;
    }

    /** Makes a thread's context, on that thread; a subclass with per-thread state of its own returns its subclass. */
    protected VirtualBdevChannel newChannel(KeelThread thread) {
        return new VirtualBdevChannel(this);
    }

    // ---- bases ----

    /** How many slots there are, empty ones included. */
    public final int slots() {
        return bases.length;
    }

    /** The descriptor on the base in {@code slot}, or null if the slot is empty. */
    public final BdevDesc base(int slot) {
        return bases[slot];
    }

    /** The descriptors on the bases, in slot order, without the empty slots. */
    public final List<BdevDesc> bases() {
        return Arrays.stream(bases).filter(Objects::nonNull).toList();
    }

    /** The slot that holds {@code base}, or -1. */
    public final int slotOf(Bdev base) {
        BdevDesc[] now = bases;
        return IntStream.range(0, now.length).filter(i -> now[i] != null && now[i].bdev() == base).findFirst().orElse(-1);
    }

    /** The slot {@link #addBase} fills next: the first empty one, else a new one at the end. */
    protected final int firstEmptySlot() {
        BdevDesc[] now = bases;
        int slot = 0;
        while (slot < now.length && now[slot] != null) {
            slot++;
        }
        return slot;
    }

    /**
     * Adds a base, opened and claimed by the module ({@link VirtualBdevModule#openAndClaim}), in the first empty slot
     * or a new one at the end; returns the slot. Each thread takes its channel to it when it first uses the slot.
     * The module's thread.
     */
    protected final int addBase(BdevDesc base) {
        BdevDesc[] now = bases;
        int slot = firstEmptySlot();
        BdevDesc[] next = Arrays.copyOf(now, Math.max(now.length, slot + 1));
        next[slot] = base;
        bases = next;
        return slot;
    }

    /**
     * Empties {@code slot}: from now on no thread takes a channel to its base, every thread that has one puts it
     * (on that thread), then the descriptor is closed on its thread (releasing the claim) and {@code done} runs on the
     * calling thread. I/O still in flight on the base completes as usual; what the subclass sends to the slot from
     * now on finds it empty. Called on the module's thread.
     */
    protected final void removeBase(int slot, Runnable done) {
        BdevDesc gone = bases[slot];
        if (gone == null) {
            throw new IllegalArgumentException("slot " + slot + " of bdev " + name() + " is empty");
        }
        BdevDesc[] next = bases.clone();
        next[slot] = null;
        bases = next;
        KeelThread caller = KeelThread.current();
        forEachContext(ctx -> ctx.drop(slot, gone), () -> gone.thread().send(() -> {
            gone.close();
            caller.send(done);
        }));
    }

    // ---- I/O ----

    /**
     * Passes {@code io} down to the base in {@code slot} as a child that does the same on the same buffers, through
     * this thread's channel; {@code childDone} gets the child, with {@code io} as its argument. Returns false, having
     * completed {@code io}, when the child could not start: NOMEM when no bdev_io is free (the layer submits
     * {@code io} again later), else FAILED (an empty slot, a base going away, a refused submission).
     */
    protected final boolean forward(int slot, BdevIo io, BdevIoCallback childDone) {
        VirtualBdevChannel ch = io.moduleChannel();
        BdevChannel baseChannel = ch.base(slot);
        int rc = baseChannel == null ? -Errno.ENODEV : ch.desc(slot).forward(baseChannel, io, childDone, io);
        if (rc == 0) {
            return true;
        }
        io.complete(rc == -Errno.ENOMEM ? BdevIoStatus.NOMEM : BdevIoStatus.FAILED);
        return false;
    }

    /**
     * Sends the piece of {@code io} that {@code numBlocks} blocks at {@code offsetBlocks} of the base in {@code slot}
     * hold, its data {@code io}'s from byte {@code parentByteOffset} on, as a child sharing {@code io}'s buffers,
     * through this thread's channel ({@link BdevDesc#submitPart}). Returns 0, or the refusal (-ENODEV for an empty
     * slot or a base going away), leaving {@code io} as it was.
     */
    protected final int submitPart(int slot, BdevIo io, long parentByteOffset, long offsetBlocks, long numBlocks,
            BdevIoCallback childDone, Object arg) {
        return part(slot, io, io.type(), parentByteOffset, offsetBlocks, numBlocks, childDone, arg);
    }

    /**
     * As {@link #submitPart}, but the child writes {@code io}'s data, whatever {@code io}'s type
     * ({@link BdevDesc#writePart}): a read's data written back to a base.
     */
    protected final int writePart(int slot, BdevIo io, long parentByteOffset, long offsetBlocks, long numBlocks,
            BdevIoCallback childDone, Object arg) {
        return part(slot, io, IoType.WRITE, parentByteOffset, offsetBlocks, numBlocks, childDone, arg);
    }

    private int part(int slot, BdevIo io, IoType type, long parentByteOffset, long offsetBlocks, long numBlocks,
            BdevIoCallback childDone, Object arg) {
        VirtualBdevChannel ch = io.moduleChannel();
        BdevChannel baseChannel = ch.base(slot);
        if (baseChannel == null) {
            return -Errno.ENODEV;
        }
        BdevDesc d = ch.desc(slot);
        return type == io.type()
                ? d.submitPart(baseChannel, io, parentByteOffset, offsetBlocks, numBlocks, childDone, arg)
                : d.writePart(baseChannel, io, parentByteOffset, offsetBlocks, numBlocks, childDone, arg);
    }

    /** Ends {@code parent} as {@code child} ended (an NVMe error keeps its status codes) and frees the child. */
    protected static void completeFromChild(BdevIo parent, BdevIo child) {
        BdevIoStatus status = child.status();
        int sct = child.nvmeSct();
        int sc = child.nvmeSc();
        child.free();
        if (status == BdevIoStatus.NVME_ERROR) {
            parent.completeNvme(sct, sc);
        } else {
            parent.complete(status);
        }
    }

    /**
     * Runs {@code fn} with each thread's context, on that thread, one thread after another, then {@code done} on
     * the calling thread (a lightweight one).
     */
    protected final void forEachContext(Consumer<VirtualBdevChannel> fn, Runnable done) {
        channels.forEachChannel((it, ch) -> {
            fn.accept(ch.context());
            it.next(0);
        }, status -> done.run());
    }

    // ---- teardown ----

    @Override
    protected void destruct(Runnable done) {
        // every channel of ours is gone; once their contexts have put the base channels, let go of the bases
        channels.unregister(() -> {
            module.forget(this); // first: a base that registers again must find this bdev gone to build it anew
            closeBases(bases(), 0, done);
        });
    }

    /** Closes each descriptor on the thread that opened it, one after another, then runs {@code done}. */
    private static void closeBases(List<BdevDesc> descs, int next, Runnable done) {
        if (next == descs.size()) {
            done.run();
            return;
        }
        BdevDesc d = descs.get(next);
        d.thread().send(() -> {
            d.close(); // releases the claim; the base may now finish its own removal
            closeBases(descs, next + 1, done);
        });
    }
}
