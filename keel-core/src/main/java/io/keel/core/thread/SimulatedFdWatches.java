package io.keel.core.thread;

import io.keel.core.sys.Epoll;
import io.keel.core.sys.Libc;
import io.keel.core.sys.Poll;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The simulation's raw fd watches: no epoll set and no waiting. Before each step the runtime asks the kernel, with one
 * {@code poll(2)} of timeout 0 over every watched fd, which are ready now; each ready one is an action the seeded
 * scheduler may pick, which runs its handler with the ready bits (epoll's, level-triggered as on a reactor: HUP and
 * ERR always count). That is deterministic only while every writer to those fds (the peer end of a socket pair, the
 * writer of an eventfd) also runs inside the simulation: then readiness changes only in the steps it chooses.
 *
 * <p>A watch is named in the trace by the order it was made in, never by its fd number, which the kernel picks.
 * An fd found closed under its watch ({@code POLLNVAL}) breaks the rule "cancel before closing" and fails the run.
 * Simulation thread only.
 */
final class SimulatedFdWatches {
    private static final int ALWAYS_REPORTED = Epoll.EPOLLHUP | Epoll.EPOLLERR;

    private final List<Watch> watches = new ArrayList<>();
    // the poll array and call state live while there are watches: made on demand, closed with the last watch
    private Arena arena;
    private MemorySegment callState;
    private MemorySegment pollFds;
    private int pollCapacity;
    private long made;

    /** One raw fd watched by a simulated thread. */
    final class Watch implements FdWatch {
        final KeelThread owner;
        final FdHandler handler;
        final int fd;
        final long id;
        private int events;
        private boolean cancelled;
        /** The ready bits the last {@link #poll} found, as the handler will see them. */
        int ready;

        Watch(KeelThread owner, int fd, int events, FdHandler handler, long id) {
            this.owner = owner;
            this.fd = fd;
            this.events = events;
            this.handler = handler;
            this.id = id;
        }

        @Override
        public void interest(int ops) {
            events = ops;
        }

        @Override
        public void cancel() {
            if (!cancelled) {
                cancelled = true;
                watches.remove(this);
                if (watches.isEmpty()) {
                    release();
                }
            }
        }

        @Override
        public String toString() {
            return "fd watch #" + id + " (fd " + fd + ")";
        }
    }

    Watch add(KeelThread owner, int fd, int events, FdHandler handler) {
        if (fd < 0) {
            throw new IllegalStateException("cannot watch fd " + fd + ": " + Libc.strerror(Libc.EBADF));
        }
        Watch w = new Watch(owner, fd, events, handler, made++);
        watches.add(w);
        return w;
    }

    /**
     * Asks the kernel which watched fds are ready now and returns those watches, in the order they were made; each
     * one's {@link Watch#ready} holds its bits. Watches whose fd was closed under them are returned in
     * {@code closedUnder}.
     */
    List<Watch> poll(List<Watch> closedUnder) {
        if (watches.isEmpty()) {
            return List.of(); // a simulation without watches pays nothing
        }
        List<Watch> ready = new ArrayList<>();
        int n = watches.size();
        if (n > pollCapacity) {
            release();
            pollCapacity = Math.max(16, 2 * n);
            arena = Arena.ofConfined();
            callState = Libc.callState(arena);
            pollFds = Poll.newFds(arena, pollCapacity);
        }
        for (int i = 0; i < n; i++) {
            Watch w = watches.get(i);
            Poll.set(pollFds, i, w.fd, w.events);
        }
        int rc = Poll.poll(pollFds, n, 0, callState);
        if (rc < 0 && rc != -Libc.EINTR) {
            throw new IllegalStateException("poll failed: " + Libc.strerror(-rc));
        }
        for (int i = 0; rc > 0 && i < n; i++) {
            Watch w = watches.get(i);
            int revents = Poll.revents(pollFds, i);
            if ((revents & Poll.POLLNVAL) != 0) {
                closedUnder.add(w);
            } else if ((revents & (w.events | ALWAYS_REPORTED)) != 0) {
                w.ready = revents & (w.events | ALWAYS_REPORTED);
                ready.add(w);
            }
        }
        return ready;
    }

    /** Frees the poll array (no watch left, or a bigger one is needed). */
    private void release() {
        if (arena != null) {
            arena.close();
            arena = null;
            callState = null;
            pollFds = null;
            pollCapacity = 0;
        }
    }
}
