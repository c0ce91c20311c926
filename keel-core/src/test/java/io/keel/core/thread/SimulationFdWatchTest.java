package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.core.sys.Epoll;
import io.keel.core.sys.EventFd;
import io.keel.core.sys.Libc;
import io.keel.core.sys.UnixSocket;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Raw fd watches under the simulation: a watch is an action the seeded scheduler picks when its fd is ready, as long as
 * whoever writes to the fd runs in the simulation too. An eventfd written by one simulated thread wakes a watch on
 * another, and the same seed replays the same run; a watch that is not ready is no work, so time still jumps to the
 * next timer and the system goes quiet; a hang-up is reported without being asked for; and an fd closed under its
 * watch fails the run.
 */
class SimulationFdWatchTest {
    private static final long MS = 1_000_000;
    private static final int WRITES = 20;

    private record Run(List<String> trace, List<String> events, long fingerprint) {
    }

    /** A writer adds 1 to an eventfd every millisecond; a reader on another core watches it and takes the count. */
    private static Run eventFdAcrossThreads(long seed) {
        SimulationRuntime sim = SimulationRuntime.createTraced(seed, CpuMask.of(0, 1));
        List<String> events = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = Libc.callState(arena);
            MemorySegment writeCount = arena.allocate(EventFd.COUNT_BYTES, 8);
            MemorySegment readCount = arena.allocate(EventFd.COUNT_BYTES, 8);
            int fd = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, cs);
            assertThat(fd).isPositive();
            KeelThread reader = sim.createThread("reader", CpuMask.of(0));
            KeelThread writer = sim.createThread("writer", CpuMask.of(1));
            FdWatch[] watch = new FdWatch[1];
            long[] taken = {0};
            reader.send(() -> watch[0] = reader.watchFd(fd, Epoll.EPOLLIN, ready -> {
                long n = EventFd.read(fd, readCount, cs);
                taken[0] += n;
                events.add("read " + n + " at " + sim.clock().nanoTime() + " ready " + ready);
                if (taken[0] == WRITES) {
                    watch[0].cancel();
                }
                return 1;
            }));
            int[] written = {0};
            writer.send(() -> {
                Poller[] tick = new Poller[1];
                tick[0] = writer.registerPoller("write", () -> {
                    assertThat(EventFd.write(fd, 1, writeCount, cs)).isEqualTo(8);
                    if (++written[0] == WRITES) {
                        tick[0].unregister();
                    }
                    return PollerFn.BUSY;
                }, 1_000);
            });

            sim.runUntilIdle(10_000);

            assertThat(taken[0]).as("every write was seen by the watch").isEqualTo(WRITES);
            assertThat(events).as("each write woke the reader before the next one").hasSize(WRITES);
            assertThat(Libc.close(fd, cs)).isZero();
        }
        return new Run(sim.trace(), events, sim.fingerprint());
    }

    @Test
    void anEventFdWrittenOnOneThreadWakesAWatchOnAnotherAndASeedReplaysIt() {
        Run first = eventFdAcrossThreads(5);
        Run again = eventFdAcrossThreads(5);

        assertThat(again.trace()).isEqualTo(first.trace());
        assertThat(again.events()).isEqualTo(first.events());
        assertThat(again.fingerprint()).isEqualTo(first.fingerprint());
        assertThat(first.trace()).anyMatch(line -> line.endsWith("fd #0 ready " + Epoll.EPOLLIN))
                .noneMatch(line -> line.contains("fd #1"));
        assertThat(first.events().getFirst()).startsWith("read 1 at ");
        assertThat(eventFdAcrossThreads(6).fingerprint()).as("another seed, another path")
                .isNotEqualTo(first.fingerprint());
    }

    @Test
    void aWatchThatIsNotReadyIsNoWorkSoTimeJumpsAndTheSystemGoesQuiet() {
        SimulationRuntime sim = SimulationRuntime.create(9, CpuMask.of(0));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = Libc.callState(arena);
            int fd = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, cs);
            KeelThread t = sim.createThread("idle");
            int[] handled = {0};
            int[] ticks = {0};
            t.send(() -> {
                t.watchFd(fd, Epoll.EPOLLIN, ready -> ++handled[0]);
                Poller[] tick = new Poller[1];
                tick[0] = t.registerPoller("tick", () -> {
                    if (++ticks[0] == 3) {
                        tick[0].unregister();
                    }
                    return PollerFn.BUSY;
                }, 50_000);
            });
            long start = sim.clock().nanoTime();

            long steps = sim.runUntilIdle(1_000);

            assertThat(ticks[0]).isEqualTo(3);
            assertThat(sim.clock().nanoTime() - start).isGreaterThanOrEqualTo(150 * MS);
            assertThat(steps).as("the clock jumped instead of spinning on the quiet fd").isLessThan(20);
            assertThat(sim.step()).as("quiescent with the watch still there").isFalse();
            assertThat(handled[0]).isZero();
            Libc.closeQuietly(fd); // the thread never cancels: nothing steps after this
        }
    }

    @Test
    void aHangUpIsReportedEvenWithoutInterest() {
        SimulationRuntime sim = SimulationRuntime.create(11, CpuMask.of(0, 1));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = Libc.callState(arena);
            int[] pair = new int[2];
            assertThat(UnixSocket.socketpair(UnixSocket.SOCK_STREAM | UnixSocket.SOCK_NONBLOCK
                    | UnixSocket.SOCK_CLOEXEC, pair, cs)).isZero();
            KeelThread owner = sim.createThread("owner", CpuMask.of(0));
            KeelThread peer = sim.createThread("peer", CpuMask.of(1));
            List<Integer> seen = new ArrayList<>();
            owner.send(() -> {
                FdWatch[] w = new FdWatch[1];
                w[0] = owner.watchFd(pair[0], 0, ready -> {
                    seen.add(ready);
                    w[0].cancel();
                    Libc.closeQuietly(pair[0]);
                    return 1;
                });
            });
            sim.runUntilIdle(100);
            assertThat(seen).as("not ready, not asked for").isEmpty();

            peer.send(() -> Libc.closeQuietly(pair[1]));
            sim.runUntilIdle(100);

            assertThat(seen).hasSize(1);
            assertThat(seen.getFirst() & Epoll.EPOLLHUP).isNotZero();
        }
    }

    @Test
    void anFdClosedUnderItsWatchFailsTheRun() {
        SimulationRuntime sim = SimulationRuntime.create(13, CpuMask.of(0));
        try (Arena arena = Arena.ofConfined()) {
            int fd = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, Libc.callState(arena));
            KeelThread t = sim.createThread("careless");
            t.send(() -> {
                t.watchFd(fd, Epoll.EPOLLIN, ready -> 1);
                Libc.closeQuietly(fd);
            });

            assertThatThrownBy(() -> sim.runUntilIdle(100))
                    .isInstanceOf(SimulationRuntime.SimulationFailure.class)
                    .hasMessageContaining("simulation seed 13")
                    .hasMessageContaining("was closed before its watch was cancelled on thread careless");
        }
    }
}
