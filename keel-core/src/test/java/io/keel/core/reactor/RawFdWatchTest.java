package io.keel.core.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

import io.keel.core.sys.Epoll;
import io.keel.core.sys.EventFd;
import io.keel.core.sys.FdMessage;
import io.keel.core.sys.Libc;
import io.keel.core.sys.SharedMemory;
import io.keel.core.sys.UnixSocket;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.OnThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A lightweight thread watches raw file descriptors (what vhost needs: eventfds for kick and call, a Unix socket that
 * passes fds) on its reactor, in interrupt mode (the reactor sleeps until one is signalled) and in poll mode.
 */
class RawFdWatchTest {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment callState = Libc.callState(arena);
    private final MemorySegment count = arena.allocate(EventFd.COUNT_BYTES, 8);
    private final int eventFd = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, callState);
    private ReactorRuntime rt;

    @AfterEach
    void stop() {
        if (rt != null) {
            rt.close();
        }
        Libc.closeQuietly(eventFd);
        arena.close();
    }

    private void start(boolean interruptMode) {
        rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0, 1), interruptMode));
    }

    /** Watches {@link #eventFd}; the handler takes the count and records it with the thread it ran on. */
    private FdWatch watchEventFd(KeelThread t, List<String> received) {
        MemorySegment buf = Arena.ofAuto().allocate(EventFd.COUNT_BYTES, 8);
        MemorySegment cs = Libc.callState(Arena.ofAuto());
        return t.watchFd(eventFd, Epoll.EPOLLIN, ready -> {
            long n = EventFd.read(eventFd, buf, cs);
            if (n > 0) {
                received.add(n + " on " + KeelThread.current().name());
            }
            return n > 0 ? 1 : 0;
        });
    }

    private void signal(long n) {
        assertThat(EventFd.write(eventFd, n, count, callState)).isEqualTo(8);
    }

    @Test
    void anEventFdSignalledFromAnotherThreadWakesTheSleepingReactorAndRunsTheHandlerOnItsThread() throws Exception {
        start(true);
        KeelThread t = rt.createThread("kick_reader", CpuMask.of(1));
        Reactor reactor = rt.reactorOf(t);
        List<String> received = new CopyOnWriteArrayList<>();
        OnThread.run(t, () -> watchEventFd(t, received));
        Thread.sleep(50);
        long asleepAt = reactor.iterations();
        Thread.sleep(50);
        assertThat(reactor.iterations()).as("the reactor sleeps").isLessThanOrEqualTo(asleepAt + 1);

        signal(3);

        await().atMost(Duration.ofSeconds(2)).until(() -> !received.isEmpty());
        assertThat(received).containsExactly("3 on kick_reader");
        signal(1);
        await().atMost(Duration.ofSeconds(2)).until(() -> received.size() == 2);
        assertThat(received).endsWith("1 on kick_reader");
    }

    @Test
    void aPollModeReactorPicksUpTheSignal() {
        start(false);
        KeelThread t = rt.createThread("kick_reader", CpuMask.of(1));
        List<String> received = new CopyOnWriteArrayList<>();
        OnThread.run(t, () -> watchEventFd(t, received));

        signal(2);

        await().atMost(Duration.ofSeconds(2)).until(() -> !received.isEmpty());
        assertThat(received).containsExactly("2 on kick_reader");
    }

    @Test
    void afterCancelTheHandlerIsNoLongerCalled() {
        start(true);
        KeelThread t = rt.createThread("kick_reader", CpuMask.of(1));
        Reactor reactor = rt.reactorOf(t);
        List<String> received = new CopyOnWriteArrayList<>();
        FdWatch watch = OnThread.call(t, () -> watchEventFd(t, received));
        assertThat(OnThread.call(t, reactor::watchedFds)).isEqualTo(1);
        signal(1);
        await().atMost(Duration.ofSeconds(2)).until(() -> received.size() == 1);

        OnThread.run(t, () -> {
            watch.cancel();
            watch.cancel(); // idempotent
        });
        signal(1);

        await().pollDelay(Duration.ofMillis(100)).atMost(Duration.ofSeconds(1))
                .untilAsserted(() -> assertThat(received).containsExactly("1 on kick_reader"));
        assertThat(OnThread.call(t, reactor::watchedFds)).isZero();
    }

    @Test
    void aUnixSocketWatchedRawPassesBytesAndAnFd() {
        start(true);
        KeelThread t = rt.createThread("vhost_socket", CpuMask.of(1));
        int[] pair = new int[2];
        assertThat(UnixSocket.socketpair(UnixSocket.SOCK_STREAM | UnixSocket.SOCK_NONBLOCK | UnixSocket.SOCK_CLOEXEC,
                pair, callState)).isZero();
        int memfd = SharedMemory.memfdCreate("guest", SharedMemory.MFD_CLOEXEC, callState);
        assertThat(SharedMemory.truncate(memfd, 4096, callState)).isZero();
        MemorySegment mine = SharedMemory.mapShared(memfd, 0, 4096, callState);
        mine.setString(0, "shared page");
        CompletableFuture<String> got = new CompletableFuture<>();
        try {
            OnThread.run(t, () -> {
                FdMessage in = new FdMessage(arena, 64, 2);
                MemorySegment cs = Libc.callState(arena);
                t.watchFd(pair[1], Epoll.EPOLLIN, ready -> {
                    in.prepareReceive(64);
                    long n = UnixSocket.recvmsg(pair[1], in, 0, cs);
                    if (n <= 0) {
                        return 0;
                    }
                    int fd = in.fd(0);
                    MemorySegment theirs = SharedMemory.mapShared(fd, 0, 4096, cs);
                    Libc.closeQuietly(fd);
                    got.complete(in.data().getString(0) + " / " + theirs.getString(0) + " on "
                            + KeelThread.current().name());
                    SharedMemory.unmap(theirs, cs);
                    return 1;
                });
            });
            FdMessage out = new FdMessage(arena, 64, 2);
            out.data().setString(0, "mem table");
            out.fd(0, memfd);
            out.prepareSend(10, 1);
            assertThat(UnixSocket.sendmsg(pair[0], out, 0, callState)).isEqualTo(10);

            assertThat(OnThread.await(got)).isEqualTo("mem table / shared page on vhost_socket");
        } finally {
            SharedMemory.unmap(mine, callState);
            Libc.closeQuietly(memfd);
            rt.close();
            rt = null;
            Libc.closeQuietly(pair[0]);
            Libc.closeQuietly(pair[1]);
        }
    }

    @Test
    void aThreadThatExitsWithARawWatchLeftHasItCancelledAndItsHandlerIsNotRun() throws Exception {
        start(true);
        KeelThread t = rt.createThread("leaky", CpuMask.of(1));
        KeelThread other = rt.createThread("other", CpuMask.of(1));
        Reactor reactor = rt.reactorOf(t);
        List<String> received = new CopyOnWriteArrayList<>();
        OnThread.run(t, () -> watchEventFd(t, received));
        CompletableFuture<Void> exited = new CompletableFuture<>();
        t.exit(() -> exited.complete(null));
        OnThread.await(exited);

        signal(1);

        await().atMost(Duration.ofSeconds(2)).until(() -> OnThread.call(other, reactor::watchedFds) == 0);
        assertThat(received).isEmpty();
    }

    @Test
    void anIdleInterruptModeReactorWithRawWatchesDoesNotSpin() throws Exception {
        start(true);
        KeelThread t = rt.createThread("kick_reader", CpuMask.of(1));
        OnThread.run(t, () -> watchEventFd(t, new CopyOnWriteArrayList<>()));
        long osThreadId = rt.reactorOf(t).osThread().threadId();
        Thread.sleep(20);
        var mx = ManagementFactory.getThreadMXBean();

        long before = mx.getThreadCpuTime(osThreadId);
        Thread.sleep(300);
        long cpuMillis = (mx.getThreadCpuTime(osThreadId) - before) / 1_000_000;

        assertThat(cpuMillis).as("CPU ms of an idle reactor watching an eventfd, over 300 ms").isLessThanOrEqualTo(5);
    }

    @Test
    void onlyTheOwningThreadMayWatch() {
        start(true);
        KeelThread t = rt.createThread("owner");

        assertThatIllegalStateException().isThrownBy(() -> t.watchFd(eventFd, Epoll.EPOLLIN, ready -> 0))
                .withMessageContaining("only thread owner may");
    }
}
