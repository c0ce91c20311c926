package io.keel.core.reactor;

import io.keel.core.mem.NativeArena;
import io.keel.core.sys.Epoll;
import io.keel.core.sys.EventFd;
import io.keel.core.sys.Libc;
import io.keel.core.sys.NioFds;
import io.keel.core.thread.FdHandler;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.MemorySegment;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One reactor's watched file descriptors in one epoll set, read with one {@code epoll_wait} per look: raw fds
 * (eventfds, fd-passing Unix sockets) with epoll's bits, and NIO channels by their fd with {@link SelectionKey}'s
 * ops (translated both ways as NIO's own selector does, so their handlers see no difference). An eventfd in the set
 * wakes a sleeping reactor from other OS threads. Each watch's epoll tag is its slot and a generation, so an event
 * queued for a watch cancelled since (by an earlier handler of the same batch) is not given to the slot's next one.
 * Reactor thread only, except {@link #wake}.
 */
final class FdSet implements AutoCloseable {
    private static final int EVENTS_PER_WAIT = 64; // more stay ready (level-triggered) for the next look
    private static final long WAKE_TAG = -1;

    // global-scope memory: a downcall given a shared arena's segment acquires and releases its session, two CASes
    // on every look of a poll-mode loop; wake() writes through its own two from other OS threads, fenced by wakers
    private final NativeArena arena = new NativeArena();
    private final MemorySegment callState = Libc.callState(arena);
    private final MemorySegment ctlEvent = Epoll.newEvents(arena, 1);
    private final MemorySegment events = Epoll.newEvents(arena, EVENTS_PER_WAIT);
    private final MemorySegment timeout = Epoll.newTimeout(arena);
    private final MemorySegment drained = arena.allocate(EventFd.COUNT_BYTES, 8);
    // wake()'s own: any number of OS threads write the same 1 through them at once, and its errno is not looked at
    private final MemorySegment wakeValue = arena.allocate(EventFd.COUNT_BYTES, 8);
    private final MemorySegment wakeCallState = Libc.callState(arena);
    /** {@link #wake} calls in progress; negative once {@link #close} has begun. */
    private final AtomicInteger wakers = new AtomicInteger();
    private final int epfd;
    private final int wakeFd;
    private Watch[] slots = new Watch[8];
    private int[] freeSlots = new int[8];
    private int freeCount;
    private int used;
    private int generation;
    private int watched;
    private int relaxedWatched;
    /** Times the set was looked at (epoll_wait calls): for tests. */
    private long looks;

    FdSet() {
        int ep = Epoll.create(Epoll.EPOLL_CLOEXEC, callState);
        if (ep < 0) {
            arena.close();
            throw new IllegalStateException("epoll_create1 failed: " + Libc.strerror(-ep));
        }
        int wake = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, callState);
        int rc = wake < 0 ? wake : Epoll.ctl(ep, Epoll.EPOLL_CTL_ADD, wake, Epoll.EPOLLIN, WAKE_TAG, ctlEvent, callState);
        if (rc < 0) {
            Libc.closeQuietly(wake);
            Libc.closeQuietly(ep);
            arena.close();
            throw new IllegalStateException("cannot make the reactor's wake-up eventfd: " + Libc.strerror(-rc));
        }
        epfd = ep;
        wakeFd = wake;
    }

    /** Watches now, raw and channels. */
    int watched() {
        return watched;
    }

    long looks() {
        return looks;
    }

    /** Fds watched now that are not {@link FdWatch#relaxed}. */
    int urgentWatched() {
        return watched - relaxedWatched;
    }

    /** Adds raw {@code fd} for {@code events} (epoll bits). */
    FdWatch add(KeelThread owner, int fd, int events, FdHandler handler) {
        Watch w = new Watch(owner, fd, handler, null, takeSlot());
        w.register(events);
        return w;
    }

    /** Adds {@code channel} (non-blocking, open) for {@code ops} ({@link SelectionKey} ops). */
    FdWatch add(KeelThread owner, SelectableChannel channel, int ops, FdHandler handler) {
        if (channel.isBlocking()) {
            throw new IllegalStateException("a watched channel must be non-blocking: " + channel);
        }
        if (!channel.isOpen()) {
            throw new IllegalStateException("cannot watch a closed channel: " + channel);
        }
        int fd = NioFds.fdOf(channel);
        if (fd < 0) {
            throw new IllegalStateException(
                    "fd watches need the JVM option --add-exports java.base/sun.nio.ch=ALL-UNNAMED");
        }
        Watch w = new Watch(owner, fd, handler, channel, takeSlot());
        w.interest(ops);
        return w;
    }

    private int takeSlot() {
        int slot = freeCount > 0 ? freeSlots[--freeCount] : used++;
        if (slot == slots.length) {
            slots = Arrays.copyOf(slots, slots.length * 2);
        }
        return slot;
    }

    private void release(int slot) {
        slots[slot] = null;
        if (freeCount == freeSlots.length) {
            freeSlots = Arrays.copyOf(freeSlots, freeSlots.length * 2);
        }
        freeSlots[freeCount++] = slot;
    }

    /**
     * Looks at the set, waiting up to {@code timeoutNanos} (0: not at all, negative: until something is ready or
     * {@link #wake}): how many events {@link #ready} may be asked about. A wake-up is consumed here and not counted.
     */
    int poll(long timeoutNanos) {
        looks++;
        int n = timeoutNanos == 0
                ? Epoll.readyNow(epfd, events, EVENTS_PER_WAIT)
                : Epoll.wait(epfd, events, EVENTS_PER_WAIT, timeoutNanos, timeout);
        if (n <= 0) {
            return 0; // interrupted: looked at again next time
        }
        for (int i = 0; i < n; i++) {
            if (Epoll.tag(events, i) == WAKE_TAG) {
                EventFd.read(wakeFd, drained, callState);
            }
        }
        return n;
    }

    /** The watch of event {@code i}, or null (the wake-up, or a watch cancelled since this look). */
    Watch ready(int i) {
        long tag = Epoll.tag(events, i);
        if (tag == WAKE_TAG) {
            return null;
        }
        Watch w = slots[(int) tag];
        return w != null && w.tag() == tag ? w : null;
    }

    /** The ready bits of event {@code i} as its watch's handler takes them (epoll's, or NIO's ops for a channel). */
    int readyOps(Watch w, int i) {
        int ev = Epoll.events(events, i);
        if (w.channel == null) {
            return ev;
        }
        if ((ev & (Epoll.EPOLLHUP | Epoll.EPOLLERR)) != 0) {
            return w.ops; // as NIO: an error or hang-up makes every op of interest ready
        }
        int ops = 0;
        if ((ev & Epoll.EPOLLIN) != 0) {
            ops |= SelectionKey.OP_READ | SelectionKey.OP_ACCEPT;
        }
        if ((ev & Epoll.EPOLLOUT) != 0) {
            ops |= SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT;
        }
        return ops & w.ops;
    }

    /** Makes a sleeping {@link #poll} return; nothing once the set is closed. Any OS thread. */
    void wake() {
        if (wakers.getAndIncrement() >= 0) {
            EventFd.write(wakeFd, 1, wakeValue, wakeCallState);
        }
        wakers.getAndDecrement();
    }

    /**
     * Closes the set; the reactor is ending. Waits for wake-ups in flight (one write each), so none writes to a
     * closed fd whose number the kernel may have given to someone else.
     */
    @Override
    public void close() {
        while (!wakers.compareAndSet(0, Integer.MIN_VALUE)) {
            Thread.onSpinWait();
        }
        Libc.closeQuietly(wakeFd);
        Libc.closeQuietly(epfd);
        arena.close();
    }

    private static int epollEvents(int ops) {
        int ev = 0;
        if ((ops & (SelectionKey.OP_READ | SelectionKey.OP_ACCEPT)) != 0) {
            ev |= Epoll.EPOLLIN;
        }
        if ((ops & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT)) != 0) {
            ev |= Epoll.EPOLLOUT;
        }
        return ev;
    }

    /**
     * One watched fd. A channel with no ops of interest is out of the set (as with NIO's selector, so a hang-up it
     * does not ask about cannot wake the reactor again and again); a raw fd stays in with the bits given.
     */
    final class Watch implements FdWatch {
        final KeelThread owner;
        final FdHandler handler;
        private final int fd;
        private final SelectableChannel channel;
        private final int slot;
        private final int generation;
        private int ops;
        private boolean inSet;
        private boolean cancelled;
        private boolean relaxed;

        Watch(KeelThread owner, int fd, FdHandler handler, SelectableChannel channel, int slot) {
            this.owner = owner;
            this.fd = fd;
            this.handler = handler;
            this.channel = channel;
            this.slot = slot;
            this.generation = FdSet.this.generation++;
            slots[slot] = this;
            watched++;
        }

        long tag() {
            return (long) generation << 32 | slot;
        }

        private void register(int epollEvents) {
            int rc = Epoll.ctl(epfd, inSet ? Epoll.EPOLL_CTL_MOD : Epoll.EPOLL_CTL_ADD, fd, epollEvents, tag(),
                    ctlEvent, callState);
            if (rc < 0) {
                if (!inSet) {
                    cancel();
                }
                throw new IllegalStateException("cannot watch fd " + fd + ": " + Libc.strerror(-rc));
            }
            inSet = true;
        }

        /** Changes the interest: {@link SelectionKey} ops for a channel, epoll bits for a raw fd. */
        @Override
        public void interest(int newOps) {
            if (cancelled) {
                return;
            }
            if (channel == null) {
                register(newOps);
                return;
            }
            ops = newOps;
            if (newOps != 0) {
                register(epollEvents(newOps));
            } else if (inSet) {
                inSet = false;
                Epoll.ctl(epfd, Epoll.EPOLL_CTL_DEL, fd, 0, 0, ctlEvent, callState);
            }
        }

        @Override
        public void cancel() {
            if (cancelled) {
                return;
            }
            cancelled = true;
            // a closed fd already left the set with its last descriptor (and its number may be another's now)
            if (inSet && (channel == null || channel.isOpen())) {
                Epoll.ctl(epfd, Epoll.EPOLL_CTL_DEL, fd, 0, 0, ctlEvent, callState);
            }
            inSet = false;
            release(slot);
            watched--;
            if (relaxed) {
                relaxedWatched--;
            }
        }

        @Override
        public FdWatch relaxed() {
            if (!relaxed && !cancelled) {
                relaxed = true;
                relaxedWatched++;
            }
            return this;
        }

        @Override
        public String toString() {
            return channel != null ? String.valueOf(channel) : "fd " + fd;
        }
    }
}
