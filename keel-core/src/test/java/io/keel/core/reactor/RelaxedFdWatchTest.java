package io.keel.core.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.core.sys.Epoll;
import io.keel.core.sys.EventFd;
import io.keel.core.sys.Libc;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.OnThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A poll-mode reactor whose watched fds are all relaxed (control traffic) asks the kernel about them about once a
 * millisecond, not every 20 µs, and still runs their handlers; one urgent fd brings the quick looks back at once.
 */
class RelaxedFdWatchTest {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment callState = Libc.callState(arena);
    private final MemorySegment count = arena.allocate(EventFd.COUNT_BYTES, 8);
    private final int relaxedFd = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, callState);
    private final int urgentFd = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, callState);
    private final AtomicLong handled = new AtomicLong();
    private ReactorRuntime rt;

    @AfterEach
    void stop() {
        if (rt != null) {
            rt.close();
        }
        Libc.closeQuietly(relaxedFd);
        Libc.closeQuietly(urgentFd);
        arena.close();
    }

    private FdWatch watch(KeelThread t, int fd) {
        MemorySegment buf = Arena.ofAuto().allocate(EventFd.COUNT_BYTES, 8);
        MemorySegment cs = Libc.callState(Arena.ofAuto());
        return t.watchFd(fd, Epoll.EPOLLIN, ready -> {
            long n = EventFd.read(fd, buf, cs);
            if (n > 0) {
                handled.addAndGet(n);
            }
            return n > 0 ? 1 : 0;
        });
    }

    /** epoll_wait calls over {@code millis} once the fds have been quiet past the hot period. */
    private long looksOver(Reactor reactor, long millis) throws InterruptedException {
        Thread.sleep(30);
        long before = reactor.fdLooks();
        Thread.sleep(millis);
        return reactor.fdLooks() - before;
    }

    @Test
    void relaxedFdsAreLookedAtAboutOnceAMillisecondAndStillHandled() throws Exception {
        rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0), false));
        KeelThread t = rt.createThread("control", CpuMask.of(0));
        Reactor reactor = rt.reactorOf(t);
        OnThread.run(t, () -> watch(t, relaxedFd).relaxed());

        long relaxedLooks = looksOver(reactor, 200);
        assertThat(relaxedLooks).as("looks in 200 ms with only relaxed fds").isBetween(20L, 400L);

        assertThat(EventFd.write(relaxedFd, 5, count, callState)).isEqualTo(8);
        await().atMost(Duration.ofSeconds(2)).until(() -> handled.get() == 5);

        FdWatch urgent = OnThread.call(t, () -> watch(t, urgentFd));
        long urgentLooks = looksOver(reactor, 200);
        assertThat(urgentLooks).as("looks in 200 ms with an urgent fd").isGreaterThan(relaxedLooks * 4);

        OnThread.run(t, urgent::cancel);
        assertThat(looksOver(reactor, 200)).as("relaxed again once the urgent fd is gone").isLessThan(400L);
    }
}
