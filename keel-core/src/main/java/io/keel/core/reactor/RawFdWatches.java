package io.keel.core.reactor;

import io.keel.core.sys.Epoll;
import io.keel.core.sys.Libc;
import io.keel.core.sys.NioFds;
import io.keel.core.thread.FdHandler;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Arrays;

/**
 * One reactor's watches on raw file descriptors (eventfds, fd-passing Unix sockets): an epoll set of its own, nested
 * in the reactor's NIO selector. The nesting is what lets both modes work without a second wait: an epoll fd is
 * readable while any fd in its set is ready, so the selector's {@code select} (interrupt mode) wakes for raw fds as for
 * channels and messages, and its {@code selectNow} (poll mode) covers them in the same syscall; the set itself is read
 * ({@code epoll_wait}, timeout 0) only when the selector says something in it is ready. The selector only takes
 * channels, so the epoll fd is put under one: a pipe's read end, which {@code dup2} replaces by the epoll fd.
 * Created on a reactor's first raw watch; reactor thread only.
 */
final class RawFdWatches {
    private static final int EVENTS_PER_WAIT = 64; // more stay ready (level-triggered) for the next selection

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment callState = Libc.callState(arena);
    private final MemorySegment ctlEvent = Epoll.newEvents(arena, 1);
    private final MemorySegment events = Epoll.newEvents(arena, EVENTS_PER_WAIT);
    private final int epfd;
    private final Pipe.SourceChannel epollChannel;
    private RawWatch[] slots = new RawWatch[8];
    private int[] freeSlots = new int[8];
    private int freeCount;
    private int used;
    private int generation;

    /** Opens the epoll set and registers it with {@code selector}; throws where the JVM hides channels' fds. */
    RawFdWatches(Selector selector) {
        int ep = Epoll.create(Epoll.EPOLL_CLOEXEC, callState);
        if (ep < 0) {
            arena.close();
            throw new IllegalStateException("epoll_create1 failed: " + Libc.strerror(-ep));
        }
        Pipe.SourceChannel channel = null;
        try {
            Pipe pipe = Pipe.open();
            pipe.sink().close();
            channel = pipe.source();
            int fd = NioFds.fdOf(channel);
            if (fd < 0) {
                throw new IllegalStateException(
                        "raw fd watches need the JVM option --add-exports java.base/sun.nio.ch=ALL-UNNAMED");
            }
            int rc = Libc.dup2(ep, fd, callState);
            if (rc < 0) {
                throw new IllegalStateException("dup2 of the epoll fd failed: " + Libc.strerror(-rc));
            }
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_READ, this);
        } catch (IOException e) {
            abandon(channel, ep);
            throw new UncheckedIOException("cannot nest an epoll set in the selector", e);
        } catch (RuntimeException e) {
            abandon(channel, ep);
            throw e;
        }
        this.epfd = ep;
        this.epollChannel = channel;
    }

    /** Undoes a start that failed half-way. */
    private void abandon(Pipe.SourceChannel channel, int ep) {
        closeQuietly(channel);
        Libc.closeQuietly(ep);
        arena.close();
    }

    private static void closeQuietly(Pipe.SourceChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // cleanup of a failed start
            }
        }
    }

    /** Adds {@code fd} for {@code events} (epoll bits); the watch is what {@link #ready} returns for it. */
    RawWatch add(KeelThread owner, int fd, int events, FdHandler handler, Runnable onCancel) {
        int slot = freeCount > 0 ? freeSlots[--freeCount] : used++;
        if (slot == slots.length) {
            slots = Arrays.copyOf(slots, slots.length * 2);
        }
        RawWatch w = new RawWatch(owner, fd, handler, slot, generation++, onCancel);
        int rc = Epoll.ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, events, w.tag(), ctlEvent, callState);
        if (rc < 0) {
            release(slot);
            throw new IllegalStateException("cannot watch fd " + fd + ": " + Libc.strerror(-rc));
        }
        slots[slot] = w;
        return w;
    }

    private void release(int slot) {
        slots[slot] = null;
        if (freeCount == freeSlots.length) {
            freeSlots = Arrays.copyOf(freeSlots, freeSlots.length * 2);
        }
        freeSlots[freeCount++] = slot;
    }

    /** Reads the ready fds of the set: how many {@link #ready} may be asked about. */
    int poll() {
        int n = Epoll.wait(epfd, events, EVENTS_PER_WAIT, 0, callState);
        return Math.max(n, 0); // -EINTR: the selector reports the set again
    }

    /** The watch of ready event {@code i}, or null if it was cancelled since (by an earlier handler of this batch). */
    RawWatch ready(int i) {
        long tag = Epoll.tag(events, i);
        RawWatch w = slots[(int) tag];
        return w != null && w.tag() == tag ? w : null;
    }

    /** The ready bits (epoll) of event {@code i}. */
    int readyEvents(int i) {
        return Epoll.events(events, i);
    }

    /** Closes the set; the reactor is ending (its selector is closed). */
    void close() {
        closeQuietly(epollChannel);
        Libc.closeQuietly(epfd);
        arena.close();
    }

    /** One raw fd watched; {@code tag} = generation and slot, so a reused slot is not taken for a stale event. */
    final class RawWatch implements FdWatch {
        final KeelThread owner;
        final FdHandler handler;
        private final int fd;
        private final int slot;
        private final int generation;
        private final Runnable onCancel;
        private boolean cancelled;

        RawWatch(KeelThread owner, int fd, FdHandler handler, int slot, int generation, Runnable onCancel) {
            this.owner = owner;
            this.fd = fd;
            this.handler = handler;
            this.slot = slot;
            this.generation = generation;
            this.onCancel = onCancel;
        }

        long tag() {
            return (long) generation << 32 | slot;
        }

        /** Changes the interest set ({@link Epoll} EPOLL* bits). */
        @Override
        public void interest(int events) {
            if (!cancelled) {
                int rc = Epoll.ctl(epfd, Epoll.EPOLL_CTL_MOD, fd, events, tag(), ctlEvent, callState);
                if (rc < 0) {
                    throw new IllegalStateException("cannot change the watch of fd " + fd + ": " + Libc.strerror(-rc));
                }
            }
        }

        @Override
        public void cancel() {
            if (cancelled) {
                return;
            }
            cancelled = true;
            // -EBADF when the fd was closed first: the kernel dropped it from the set with its last descriptor
            Epoll.ctl(epfd, Epoll.EPOLL_CTL_DEL, fd, 0, 0, ctlEvent, callState);
            release(slot);
            onCancel.run();
        }

        @Override
        public String toString() {
            return "fd " + fd;
        }
    }
}
