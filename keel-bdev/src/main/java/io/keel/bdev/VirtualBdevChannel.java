package io.keel.bdev;

import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.util.Arrays;

/**
 * One thread's context of a {@link VirtualBdev}: that thread's channel to each base, by slot, so an I/O goes down on
 * the thread that submitted it, with no message and no lock. Made, used and released on its thread only.
 *
 * <p>The bases present when it is made get their channels then. Since the bases of a live bdev may change (a RAID
 * adds a member, drops a failed one), each lookup checks that the slot still holds the base its channel goes to: a
 * base added later gets its channel at this thread's first use of it, and a removed base's channel is put when the
 * removal visits this thread ({@link VirtualBdev#removeBase}) or at the next use of its slot, whichever comes first.
 * A subclass keeps per-thread state of its own (queues, pollers) and lets go of it in {@link #onDestroy()}.
 */
public class VirtualBdevChannel {
    private final VirtualBdev bdev;
    /** By slot: the base this thread's channel goes to, and that channel (null if it could not be taken). */
    private BdevDesc[] descs = new BdevDesc[0];
    @SuppressWarnings("unchecked")
    private IoChannel<BdevChannel>[] channels = (IoChannel<BdevChannel>[]) new IoChannel<?>[0];

    protected VirtualBdevChannel(VirtualBdev bdev) {
        this.bdev = bdev;
        for (int slot = 0; slot < bdev.slots(); slot++) {
            base(slot);
        }
    }

    /**
     * This thread's channel to the base in {@code slot}, or null when the slot is empty or its base is going away.
     * Owner thread; allocates nothing once the slot's channel is taken.
     */
    public final BdevChannel base(int slot) {
        BdevDesc current = bdev.base(slot);
        if (current != null && slot < descs.length && descs[slot] == current) {
            return channels[slot] == null ? null : channels[slot].context();
        }
        if (slot >= descs.length) {
            descs = Arrays.copyOf(descs, Math.max(slot + 1, bdev.slots()));
            channels = Arrays.copyOf(channels, descs.length);
        }
        drop(slot, descs[slot]); // the slot's base changed since this thread last used it
        if (current == null) {
            return null;
        }
        descs[slot] = current;
        channels[slot] = KeelThread.current().getIoChannel(current.bdev().channelDevice()); // null: it is going away
        return channels[slot] == null ? null : channels[slot].context();
    }

    /** The descriptor whose channel {@link #base} returned for {@code slot}. */
    final BdevDesc desc(int slot) {
        return descs[slot];
    }

    /** Puts this thread's channel to {@code base} in {@code slot}, if it holds one (idempotent). */
    final void drop(int slot, BdevDesc base) {
        if (base != null && slot < descs.length && descs[slot] == base) {
            if (channels[slot] != null) {
                channels[slot].put();
            }
            descs[slot] = null;
            channels[slot] = null;
        }
    }

    /** The io_device's destroy: the subclass's state first (it may still complete I/O), then the base channels. */
    final void destroy() {
        onDestroy();
        for (int slot = 0; slot < descs.length; slot++) {
            drop(slot, descs[slot]);
        }
    }

    /** Lets go of what a subclass keeps per thread (completing what it holds); the base channels are still there. */
    protected void onDestroy() {
    }
}
