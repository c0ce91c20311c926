package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.thread.CpuMask;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.SimulationRuntime;
import io.keel.core.thread.SimulationSeeds;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumSet;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The bases of a registered virtual bdev change under threads that hold its channels, as a RAID's members do (a new
 * member for a rebuild, a failed member dropped), under the simulation. A test bdev sends each I/O to the base in slot
 * {@code offset % slots}; two threads each hold a channel to it. A base added later gets a channel on each thread at
 * that thread's first I/O to it; a removed base's channels are put on every thread before its descriptor is closed
 * (its claim released); a slot emptied and filled again at once sends I/O to the new base only, whichever comes
 * first on a thread, the removal's visit or an I/O; and the bdev's teardown closes every base it has then.
 */
class VirtualBdevBasesTest {
    private static final int BLOCK = 512;

    /** What the test module's create asks for: a bdev over these bases. */
    private record Slots(String name, List<String> baseBdevNames) implements VirtualBdevModule.Association {
    }

    private static final class SlotModule extends VirtualBdevModule<Slots, SlotBdev> {
        SlotModule(BdevLayer layer) {
            super(layer, "slots", "slots", Lifetime.UNTIL_DELETE);
        }

        @Override
        protected SlotBdev newBdev(Slots a, List<BdevDesc> bases) {
            return new SlotBdev(this, a.name(), bases);
        }
    }

    /** Geometry of its own (64 blocks of 512 bytes): each I/O goes, at the same offset, to slot offset % slots. */
    private static final class SlotBdev extends VirtualBdev {
        SlotBdev(SlotModule module, String name, List<BdevDesc> bases) {
            super(module, name, UUID.nameUUIDFromBytes(name.getBytes()), "slots", BLOCK, 64,
                    EnumSet.of(IoType.READ, IoType.WRITE), bases);
        }

        @Override
        protected void submit(BdevIo io) {
            forward((int) (io.offsetBlocks() % slots()), io, COMPLETE_PARENT);
        }
    }

    /** One thread's descriptor and channel on a bdev. */
    private record User(KeelThread thread, BdevDesc desc, IoChannel<BdevChannel> channel) {
    }

    private SimBdevLayer s;
    private SlotModule module;

    private SlotBdev start(long seed, String... bases) {
        s = SimBdevLayer.start(SimulationRuntime.create(seed, CpuMask.of(0, 1, 2)));
        for (String name : new String[] {"M0", "M1", "M2", "M3"}) {
            s.malloc(name, BLOCK, 64);
        }
        module = new SlotModule(s.layer);
        s.run(s.appThread, () -> module.create(new Slots("V0", List.of(bases))));
        return (SlotBdev) s.layer.get("V0");
    }

    @Test
    void aBaseAddedLaterGetsChannelsLazilyAndARemovedOneIsReleasedOnEveryThread() {
        SlotBdev v = start(1, "M0", "M1");
        Bdev m0 = s.layer.get("M0");
        Bdev m2 = s.layer.get("M2");
        User a = open(s.thread("a", 1), "V0", true);
        User b = open(s.thread("b", 2), "V0", true);
        assertThat(channels("M0")).as("taken when each thread's context was made").isEqualTo(2);
        assertThat(channels("M1")).isEqualTo(2);

        int slot = s.call(s.appThread, () -> v.addBase(module.openAndClaim("M2")));
        assertThat(slot).isEqualTo(2);
        assertThat(m2.claimedBy()).isSameAs(module);
        assertThat(channels("M2")).as("none until a thread uses the new slot").isZero();
        assertThat(io(a, IoType.WRITE, 2, pattern(7))).isEqualTo(BdevIoStatus.SUCCESS);
        assertThat(channels("M2")).isEqualTo(1);
        assertThat(io(b, IoType.WRITE, 5, pattern(8))).isEqualTo(BdevIoStatus.SUCCESS);
        assertThat(channels("M2")).isEqualTo(2);
        assertThat(readDirect("M2", 2)).isEqualTo((byte) 7);
        assertThat(readDirect("M2", 5)).isEqualTo((byte) 8);

        removeBase(v, 0);
        assertThat(m0.claimedBy()).as("its descriptor closed").isNull();
        assertThat(m0.descs()).isEmpty();
        s.runUntil(() -> channels("M0") == 0);
        assertThat(v.slotOf(m0)).isEqualTo(-1);
        assertThat(io(a, IoType.WRITE, 3, pattern(9))).as("an empty slot").isEqualTo(BdevIoStatus.FAILED);
        assertThat(io(b, IoType.WRITE, 4, pattern(9))).as("the other slots still work").isEqualTo(BdevIoStatus.SUCCESS);

        assertThat(s.call(s.appThread, () -> v.addBase(module.openAndClaim("M3")))).as("the empty slot").isZero();
        assertThat(io(a, IoType.WRITE, 3, pattern(10))).isEqualTo(BdevIoStatus.SUCCESS);
        assertThat(readDirect("M3", 3)).isEqualTo((byte) 10);
        assertThat(channels("M3")).isEqualTo(1);

        close(a);
        close(b);
        unregister(v);
        for (String base : new String[] {"M1", "M2", "M3"}) {
            assertThat(s.layer.get(base).claimedBy()).as(base + " let go by the teardown").isNull();
            assertThat(s.layer.get(base).descs()).isEmpty();
            assertThat(channels(base)).isZero();
        }
        s.close();
    }

    @Test
    void aSlotEmptiedAndFilledAtOnceSendsIoOnlyToTheNewBase() {
        SimulationSeeds.explore("virtual bdev slot swapped under two threads", 50, seed -> {
            SlotBdev v = start(seed, "M0", "M1");
            User a = open(s.thread("a", 1), "V0", true);
            User b = open(s.thread("b", 2), "V0", true);
            boolean[] removed = {false};
            s.run(s.appThread, () -> {
                v.removeBase(1, () -> removed[0] = true);
                v.addBase(module.openAndClaim("M3")); // the old base's channels are still held: its claim too
            });
            // each thread's I/O to slot 1 may come before or after the removal visits it
            assertThat(io(a, IoType.WRITE, 1, pattern(3))).isEqualTo(BdevIoStatus.SUCCESS);
            assertThat(io(b, IoType.WRITE, 3, pattern(4))).isEqualTo(BdevIoStatus.SUCCESS);
            s.runUntil(() -> removed[0] && channels("M1") == 0);
            assertThat(s.layer.get("M1").claimedBy()).isNull();
            assertThat(readDirect("M1", 1)).isZero();
            assertThat(readDirect("M1", 3)).isZero();
            assertThat(readDirect("M3", 1)).isEqualTo((byte) 3);
            assertThat(readDirect("M3", 3)).isEqualTo((byte) 4);
            assertThat(channels("M3")).isEqualTo(2);
            close(a);
            close(b);
            unregister(v);
            s.close();
        });
    }

    // ---- helpers ----

    private int channels(String bdev) {
        return BdevTestAccess.channelCount(s.layer.get(bdev));
    }

    private User open(KeelThread t, String bdev, boolean write) {
        return s.call(t, () -> {
            BdevDesc d = s.layer.open(bdev, write, (e, b) -> { });
            return new User(t, d, d.getIoChannel());
        });
    }

    /** Puts the user's channel and closes its descriptor; returns once the channel is released. */
    private void close(User u) {
        s.run(u.thread(), () -> {
            u.channel().put();
            u.desc().close();
        });
        s.runUntil(() -> u.channel().phase() == IoChannel.Phase.RELEASED);
    }

    private static MemorySegment pattern(int value) {
        MemorySegment buf = MemorySegment.ofArray(new byte[BLOCK]);
        buf.fill((byte) value);
        return buf;
    }

    /** One block of I/O on the user's thread; its status once it has completed. */
    private BdevIoStatus io(User u, IoType type, long offset, MemorySegment buf) {
        BdevIoStatus[] status = new BdevIoStatus[1];
        BdevIoCallback done = (io, success, arg) -> {
            status[0] = io.status();
            io.free();
        };
        int rc = s.call(u.thread(), () -> {
            BdevChannel ch = u.channel().context();
            return type == IoType.WRITE ? u.desc().write(ch, buf, offset, 1, done, null)
                    : u.desc().read(ch, buf, offset, 1, done, null);
        });
        assertThat(rc).as("submission").isZero();
        s.runUntil(() -> status[0] != null);
        return status[0];
    }

    /** The first byte of a block, read from the base itself (read-only: it is claimed) on the app thread. */
    private byte readDirect(String base, long offset) {
        User u = open(s.appThread, base, false);
        MemorySegment buf = MemorySegment.ofArray(new byte[BLOCK]);
        assertThat(io(u, IoType.READ, offset, buf)).isEqualTo(BdevIoStatus.SUCCESS);
        close(u);
        return buf.get(ValueLayout.JAVA_BYTE, 0);
    }

    private void removeBase(SlotBdev v, int slot) {
        boolean[] done = {false};
        s.run(s.appThread, () -> v.removeBase(slot, () -> done[0] = true));
        s.runUntil(() -> done[0]);
    }

    private void unregister(SlotBdev v) {
        boolean[] done = {false};
        s.run(s.appThread, () -> s.layer.unregister(v, () -> done[0] = true));
        s.runUntil(() -> done[0]);
    }
}
