package io.keel.core.iobuf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.core.mem.DmaMemory;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.SimulationRuntime;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One channel on one thread: buffers come from the cache first, then the global pool; they are distinct,
 * 4096-aligned whole pool buffers; put finds a buffer's pool by address, refuses foreign buffers and double
 * frees; waiters queue FIFO, are served by put, and can be aborted; counters match SPDK's cache/main/retry.
 */
class IoBufChannelTest {
    private static final int SMALL = 16;
    private static final int LARGE = 4;

    private SimulationRuntime sim;
    private IoBuf iobuf;
    private KeelThread t;

    @BeforeEach
    void tinyPoolsOnOneSimulatedThread() {
        sim = SimulationRuntime.create(1, CpuMask.of(0));
        iobuf = IoBuf.create(new IoBufOptions(SMALL, LARGE, 8192, 135168, false));
        t = sim.createThread("io0");
    }

    @AfterEach
    void finish() {
        boolean[] done = {false};
        t.send(() -> iobuf.finish(() -> done[0] = true));
        sim.runUntil(() -> done[0], 100_000);
    }

    @Test
    void everyBufferLiesInOneOfTheRegionsADeviceRegisters() {
        List<MemorySegment> regions = iobuf.regions();
        assertThat(regions).hasSize(2);
        assertThat(regions.get(0).byteSize()).isEqualTo(SMALL * 8192L);
        assertThat(regions.get(1).byteSize()).isEqualTo(LARGE * 135168L);
        Sim.run(sim, t, () -> {
            IoBufChannel ch = iobuf.channel("test", 0, 0);
            for (long length : new long[] {4096, 65536}) {
                MemorySegment b = ch.get(length, null);
                assertThat(regions).as("a region holds the %d-byte buffer", length).anyMatch(r ->
                        b.address() >= r.address() && b.address() + b.byteSize() <= r.address() + r.byteSize());
                ch.put(b);
            }
            ch.close();
        });
    }

    @Test
    void buffersAreDistinctAlignedWholePoolBuffersThatHoldData() {
        Sim.run(sim, t, () -> {
            IoBufChannel ch = iobuf.channel("test", 0, 0);
            List<MemorySegment> small = new ArrayList<>();
            Set<Long> addresses = new HashSet<>();
            for (int i = 0; i < SMALL; i++) {
                MemorySegment b = ch.get(4096, null);
                assertThat(b).as("small buffer %d", i).isNotNull();
                assertThat(b.byteSize()).isEqualTo(8192);
                assertThat(b.address() % 4096).as("aligned").isZero();
                b.fill((byte) i);
                small.add(b);
                addresses.add(b.address());
            }
            assertThat(addresses).as("distinct").hasSize(SMALL);
            assertThat(ch.get(1, null)).as("small pool exhausted, no waiter").isNull();
            for (int i = 0; i < SMALL; i++) {
                assertThat(small.get(i).get(ValueLayout.JAVA_BYTE, 8191)).as("no overlap").isEqualTo((byte) i);
            }
            List<MemorySegment> large = new ArrayList<>();
            for (int i = 0; i < LARGE; i++) {
                MemorySegment b = ch.get(135168, null);
                assertThat(b.byteSize()).isEqualTo(135168);
                assertThat(b.address() % 4096).isZero();
                assertThat(addresses.add(b.address())).isTrue();
                large.add(b);
            }
            assertThat(ch.get(9000, null)).as("large pool exhausted").isNull();
            small.forEach(ch::put);
            large.forEach(ch::put);
            assertThat(iobuf.smallPoolAvailable()).isEqualTo(SMALL);
            assertThat(iobuf.largePoolAvailable()).isEqualTo(LARGE);
            ch.close();
        });
    }

    @Test
    void theLengthChoosesThePool() {
        Sim.run(sim, t, () -> {
            IoBufChannel ch = iobuf.channel("test", 0, 0);
            assertThat(ch.get(0, null).byteSize()).isEqualTo(8192);
            assertThat(ch.get(8192, null).byteSize()).isEqualTo(8192);
            assertThat(ch.get(8193, null).byteSize()).isEqualTo(135168);
            assertThat(ch.get(135168, null).byteSize()).isEqualTo(135168);
            assertThatThrownBy(() -> ch.get(135169, null)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("exceeds large_bufsize 135168");
            assertThatThrownBy(() -> ch.get(-1, null)).isInstanceOf(IllegalArgumentException.class);
        });
    }

    @Test
    void getsComeFromTheCacheFirstThenTheGlobalPoolAndAreCountedAsSpdkDoes() {
        IoBufChannel ch = Sim.call(sim, t, () -> iobuf.channel("bdev", 2, 1));
        Sim.run(sim, t, () -> {
            MemorySegment a = ch.get(512, null);   // main
            MemorySegment b = ch.get(512, null);   // main
            MemorySegment c = ch.get(512, null);   // main
            ch.put(a);
            ch.put(b);                             // cache now holds a, b
            ch.put(c);                             // cache full: back to the global pool
            assertThat(ch.smallCached()).isEqualTo(2);
            assertThat(iobuf.smallPoolAvailable()).isEqualTo(SMALL - 2);
            assertThat(ch.get(512, null)).as("LIFO: the warmest buffer first").isEqualTo(b);
            assertThat(ch.get(512, null)).isEqualTo(a);
            MemorySegment d = ch.get(512, null);   // main again
            MemorySegment big = ch.get(65536, null); // large: main
            ch.put(big);
            assertThat(ch.get(65536, null)).isEqualTo(big); // large: cache
            IoBufWaiter w = IoBufWaiter.of(buf -> { });
            for (int i = 0; i < LARGE - 1; i++) {
                ch.get(65536, null);               // large: main x3
            }
            assertThat(ch.get(65536, w)).isNull(); // large: retry
            assertThat(ch.abort(w)).isTrue();
            assertThat(ch.smallStats()).isEqualTo(new IoBufPoolStats(2, 4, 0, 2));
            assertThat(ch.largeStats()).isEqualTo(new IoBufPoolStats(1, 4, 1, 1));
            assertThat(d).isNotNull();
        });
    }

    @Test
    void putFindsThePoolByAddressAcceptsSlicesAndRefusesForeignBuffersAndDoubleFrees() {
        Sim.run(sim, t, () -> {
            IoBufChannel ch = iobuf.channel("test", 4, 4);
            MemorySegment buf = ch.get(100, null);
            ch.put(buf.asSlice(4096, 100)); // a slice of the buffer returns the whole buffer
            assertThat(ch.smallCached()).isEqualTo(1);
            assertThat(ch.get(100, null)).isEqualTo(buf);

            assertThatThrownBy(() -> ch.put(MemorySegment.ofArray(new byte[64])))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an iobuf buffer");
            try (Arena a = Arena.ofConfined()) {
                MemorySegment foreign = a.allocate(8192, 4096);
                assertThatThrownBy(() -> ch.put(foreign)).isInstanceOf(IllegalArgumentException.class);
            }
            IoBuf other = IoBuf.create(new IoBufOptions(1, 1, 4096, 8192, false));
            IoBufChannel otherCh = other.channel("other", 0, 0);
            MemorySegment otherBuf = otherCh.get(1, null);
            assertThatThrownBy(() -> ch.put(otherBuf)).isInstanceOf(IllegalArgumentException.class);
            otherCh.put(otherBuf);
            otherCh.close();
            other.finish(() -> { });

            ch.put(buf);
            assertThatThrownBy(() -> ch.put(buf)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("put twice");
            MemorySegment never = iobuf.largePool.buffers[0];
            assertThatThrownBy(() -> ch.put(never)).isInstanceOf(IllegalStateException.class);
            ch.close();
        });
    }

    @Test
    void waitersAreServedFifoByPutAndMayBeAborted() {
        List<String> served = new ArrayList<>();
        Sim.run(sim, t, () -> {
            IoBufChannel ch = iobuf.channel("test", 8, 0);
            List<MemorySegment> held = new ArrayList<>();
            for (int i = 0; i < SMALL; i++) {
                held.add(ch.get(1, null));
            }
            List<IoBufWaiter> waiters = new ArrayList<>();
            List<MemorySegment> got = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String name = "w" + i;
                waiters.add(IoBufWaiter.of(buf -> {
                    served.add(name);
                    got.add(buf);
                }));
                assertThat(ch.get(1, waiters.get(i))).isNull();
                assertThat(waiters.get(i).isQueued()).isTrue();
            }
            assertThatThrownBy(() -> ch.get(1, waiters.get(0))).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("already queued");
            assertThat(ch.queuedWaiters()).isEqualTo(4);
            assertThat(ch.abort(waiters.get(2))).isTrue();
            assertThat(ch.abort(waiters.get(2))).as("not queued any more").isFalse();
            assertThat(ch.abort(IoBufWaiter.of(b -> { }))).as("never queued").isFalse();

            ch.put(held.get(0));
            assertThat(served).containsExactly("w0");
            assertThat(got.get(0)).as("the freed buffer goes straight to the oldest waiter").isEqualTo(held.get(0));
            ch.put(held.get(1));
            ch.put(held.get(2));
            assertThat(served).containsExactly("w0", "w1", "w3");
            assertThat(waiters).noneMatch(IoBufWaiter::isQueued);
            ch.put(held.get(3));
            assertThat(ch.smallCached()).as("no waiter left: into the cache").isEqualTo(1);
            assertThat(ch.smallStats().retry()).isEqualTo(4);

            // a served waiter may be used again at once
            assertThat(ch.get(1, waiters.get(0))).as("from the cache").isNotNull();
            got.forEach(ch::put);
            held.subList(4, held.size()).forEach(ch::put);
            ch.close();
        });
        assertThat(iobuf.smallPoolAvailable()).isEqualTo(SMALL - 1); // one still held by the test
    }

    @Test
    void closeRefusesWhileWaitersAreQueuedThenReturnsTheCacheToThePool() {
        Sim.run(sim, t, () -> {
            IoBufChannel ch = iobuf.channel("test", 32, 0);
            List<MemorySegment> held = new ArrayList<>();
            for (int i = 0; i < SMALL; i++) {
                held.add(ch.get(1, null));
            }
            IoBufWaiter w = IoBufWaiter.of(b -> { });
            ch.get(1, w);
            assertThatThrownBy(ch::close).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("1 waiter(s) queued");
            assertThat(ch.isClosed()).isFalse();
            ch.abort(w);
            held.forEach(ch::put);
            assertThat(ch.smallCached()).isEqualTo(SMALL);
            assertThat(iobuf.smallPoolAvailable()).isZero();
            ch.close();
            ch.close(); // idempotent
            assertThat(iobuf.smallPoolAvailable()).isEqualTo(SMALL);
            assertThatThrownBy(() -> ch.get(1, null)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
        });
    }

    @Test
    void onlyTheOwnerThreadMayUseAChannel() {
        IoBufChannel ch = Sim.call(sim, t, () -> iobuf.channel("test", 0, 0));
        KeelThread other = sim.createThread("io1");
        Sim.run(sim, other, () -> {
            assertThatThrownBy(() -> ch.get(1, null)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("belongs to thread io0");
            assertThatThrownBy(ch::close).isInstanceOf(IllegalStateException.class);
        });
        assertThatThrownBy(() -> iobuf.channel("test", 0, 0)).as("off any lightweight thread")
                .isInstanceOf(IllegalStateException.class);
        Sim.run(sim, t, ch::close);
    }

    @Test
    void finishWaitsForChannelsThenFreesThePools() {
        assertThat(DmaMemory.ranges()).as("the pools are memory a device may use").extracting(DmaMemory.Range::memory)
                .containsAll(iobuf.regions());
        IoBufChannel ch = Sim.call(sim, t, () -> iobuf.channel("test", 0, 0));
        boolean[] finished = {false};
        t.send(() -> iobuf.finish(() -> finished[0] = true));
        sim.runFor(1_000_000_000L); // 1 s of simulated time: still waiting for the channel
        assertThat(finished[0]).isFalse();
        Sim.run(sim, t, () -> assertThatThrownBy(() -> iobuf.channel("late", 0, 0))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("finishing"));
        Sim.run(sim, t, ch::close);
        sim.runUntil(() -> finished[0], 100_000);
        assertThat(iobuf.isFreed()).isTrue();
        assertThat(DmaMemory.ranges()).as("unregistered before they are unmapped").extracting(DmaMemory.Range::memory)
                .doesNotContainAnyElementsOf(iobuf.regions());
    }

    @Test
    void finishDoesNotWaitForeverForALeakedChannel() {
        IoBufChannel leaked = Sim.call(sim, t, () -> iobuf.channel("leaky", 0, 0));
        MemorySegment buf = Sim.call(sim, t, () -> leaked.get(1, null));
        boolean[] finished = {false};
        t.send(() -> iobuf.finish(() -> finished[0] = true));
        sim.runUntil(() -> finished[0], 100_000); // simulated time jumps to the finish bound
        Sim.run(sim, t, () -> assertThatThrownBy(() -> leaked.put(buf)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("finished"));
        Sim.run(sim, t, leaked::close);
    }
}
