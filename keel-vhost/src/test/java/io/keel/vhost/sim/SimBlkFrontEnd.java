package io.keel.vhost.sim;

import io.keel.core.sys.Epoll;
import io.keel.core.sys.EventFd;
import io.keel.core.sys.Libc;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import io.keel.vhost.blk.VirtioBlk;
import io.keel.vhost.testing.BlkBringUp;
import io.keel.vhost.testing.BlkGuest;
import io.keel.vhost.testing.FakeFrontEnd;
import io.keel.vhost.user.VhostUserMessage;
import io.keel.vhost.user.VhostUserRequest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A VM and its QEMU as a non-blocking state machine on a simulated lightweight thread (rule R9), for vhost scenarios
 * under the simulation: it connects to a controller's socket, brings two queues up ({@link BlkBringUp}, reply by
 * reply as they arrive on its socket's fd watch), then keeps {@code depth} 4 KiB requests in flight per queue, topped
 * up every {@code tickMicros}; the call eventfds' watches take the used rings. Every completion is checked: its head was
 * in flight (else it is counted as a second completion) and its status byte is OK (else it failed).
 *
 * <p>What a VM does when it goes away: {@link #stopQueues} (as QEMU when the VM powers off: no new requests, then
 * GET_VRING_BASE for each queue in turn, each answered once the queue drained) and {@link #hangUp} (QEMU exits). The
 * back end ending the session is seen as the socket's end of stream. Nothing here waits or spins; every method runs on
 * the front end's thread.
 */
public final class SimBlkFrontEnd {
    public enum State { BRINGING_UP, RUNNING, STOPPING, STOPPED, HUNG_UP, ENDED_BY_BACK_END }

    private static final int DESCRIPTORS_PER_REQUEST = 3; // header, data, status byte
    private static final int BYTES = 4096;

    private final String name;
    private final KeelThread thread;
    private final Path socketPath;
    private final int depth;
    private final boolean readsOnly;
    private final long tickMicros;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment count = arena.allocate(EventFd.COUNT_BYTES, 8);
    private final MemorySegment callState = Libc.callState(arena);
    private final FdWatch[] callWatches = new FdWatch[2];
    private final int[] lastUsed = new int[2];
    /** Per queue and descriptor: taken by a request in flight. */
    private final boolean[][] descriptorTaken = new boolean[2][BlkGuest.QUEUE_SIZE];
    private final boolean[][] headInFlight = new boolean[2][BlkGuest.QUEUE_SIZE];
    private final int[] inFlight = new int[2];
    private final List<Long> completionTimes = new ArrayList<>();
    private BlkGuest guest;
    private BlkBringUp bringUp;
    private FdWatch socketWatch;
    private Poller tick;
    private State state = State.BRINGING_UP;
    private int stoppingQueue;
    private boolean hangUpWhenStopped;
    private long leftRunningAt = -1;
    private long issued;
    private long failed;
    private long secondCompletions;
    private boolean endedWhileRunning;

    public SimBlkFrontEnd(String name, KeelThread thread, Path socketPath, int depth, boolean readsOnly,
            long tickMicros) {
        this.name = name;
        this.thread = thread;
        this.socketPath = socketPath;
        this.depth = depth;
        this.readsOnly = readsOnly;
        this.tickMicros = tickMicros;
    }

    /** Connects to the controller's socket and starts the bring-up. */
    public void connect() {
        guest = new BlkGuest(new FakeFrontEnd(socketPath.toString()));
        socketWatch = thread.watchFd(guest.qemu.socket(), Epoll.EPOLLIN, this::onSocket);
        for (int q = 0; q < 2; q++) {
            int queue = q;
            callWatches[q] = thread.watchFd(guest.callFd(q), Epoll.EPOLLIN, ready -> onCall(queue));
        }
        tick = thread.registerPoller(name + "_io", this::topUp, tickMicros);
        bringUp = new BlkBringUp(guest);
        bringUp.begin();
    }

    private int onSocket(int ready) {
        int work = 0;
        while (socketWatch != null) {
            switch (guest.qemu.replies().read(guest.qemu.socket())) {
                case AGAIN -> {
                    return work;
                }
                case REPLY -> onReply(guest.qemu.replies().reply());
                case CLOSED -> endedByBackEnd();
            }
            work++;
        }
        return work;
    }

    private void onReply(FakeFrontEnd.Reply reply) {
        switch (state) {
            case BRINGING_UP -> {
                if (!bringUp.onReply(reply)) {
                    state = State.RUNNING;
                }
            }
            case STOPPING -> {
                int queue = reply.payload().get(ValueLayout.JAVA_INT_UNALIGNED, 0);
                if (reply.request() != VhostUserRequest.GET_VRING_BASE || queue != stoppingQueue) {
                    throw new AssertionError(name + ": expected GET_VRING_BASE of queue " + stoppingQueue
                            + ", got request " + reply.request() + " for queue " + queue);
                }
                if (++stoppingQueue < 2) {
                    askVringBase(stoppingQueue);
                } else {
                    state = State.STOPPED;
                    if (hangUpWhenStopped) {
                        hangUp();
                    }
                }
            }
            default -> throw new AssertionError(name + ": a reply (request " + reply.request() + ") in state " + state);
        }
    }

    private void endedByBackEnd() {
        endedWhileRunning |= state == State.RUNNING;
        socketWatch.cancel();
        socketWatch = null;
        state = State.ENDED_BY_BACK_END;
    }

    /** Lays out and makes available what fits in each queue, while running. */
    private int topUp() {
        if (state != State.RUNNING) {
            return PollerFn.IDLE;
        }
        int work = 0;
        for (int q = 0; q < 2; q++) {
            int made = 0;
            while (inFlight[q] < depth && fits(q)) {
                issue(q);
                made++;
            }
            if (made > 0) {
                guest.kick(q);
                work += made;
            }
        }
        return work;
    }

    /** Whether the next request's descriptors are free (completions may come out of order). */
    private boolean fits(int q) {
        int head = guest.nextHead(q);
        for (int i = 0; i < DESCRIPTORS_PER_REQUEST; i++) {
            if (descriptorTaken[q][(head + i) % BlkGuest.QUEUE_SIZE]) {
                return false;
            }
        }
        return true;
    }

    private void issue(int q) {
        boolean write = !readsOnly && (issued & 1) == 0;
        int head = guest.nextHead(q);
        guest.request(q, write ? VirtioBlk.T_OUT : VirtioBlk.T_IN, 8L * (issued % 64), 16, BYTES, 1, !write);
        take(q, head, true);
        headInFlight[q][head] = true;
        inFlight[q]++;
        issued++;
    }

    private void take(int q, int head, boolean taken) {
        for (int i = 0; i < DESCRIPTORS_PER_REQUEST; i++) {
            descriptorTaken[q][(head + i) % BlkGuest.QUEUE_SIZE] = taken;
        }
    }

    /** The device called: takes queue {@code q}'s used entries since the last call. */
    private int onCall(int q) {
        EventFd.read(guest.callFd(q), count, callState);
        int used = guest.usedIdx(q);
        int work = 1;
        for (; lastUsed[q] != used; lastUsed[q] = (lastUsed[q] + 1) & 0xffff, work++) {
            BlkGuest.Done d = guest.used(q, lastUsed[q]);
            if (!headInFlight[q][d.head()]) {
                secondCompletions++;
                continue;
            }
            headInFlight[q][d.head()] = false;
            take(q, d.head(), false);
            inFlight[q]--;
            if (d.status() != VirtioBlk.S_OK) {
                failed++;
            }
            completionTimes.add(thread.runtime().clock().nanoTime());
        }
        return work;
    }

    /** The VM powers off: no new requests; each queue is stopped (GET_VRING_BASE) in turn; then, if asked, hang up. */
    public void stopQueues(boolean thenHangUp) {
        if (state != State.RUNNING) {
            return;
        }
        leftRunning();
        state = State.STOPPING;
        hangUpWhenStopped = thenHangUp;
        stoppingQueue = 0;
        askVringBase(0);
    }

    private void askVringBase(int q) {
        guest.qemu.sendVringState(VhostUserRequest.GET_VRING_BASE, VhostUserMessage.VERSION, q, 0);
    }

    /** QEMU exits: its end of the socket closes, whatever was in flight. */
    public void hangUp() {
        leftRunning();
        if (socketWatch != null) {
            socketWatch.cancel();
            socketWatch = null;
            state = State.HUNG_UP;
        }
        guest.qemu.hangUp();
    }

    private void leftRunning() {
        if (leftRunningAt < 0) {
            leftRunningAt = thread.runtime().clock().nanoTime();
        }
    }

    /** Releases the guest (its RAM, fds and socket), once the back end no longer uses them. */
    public void close() {
        if (tick != null) {
            tick.unregister();
        }
        for (int q = 0; q < 2; q++) {
            if (callWatches[q] != null) {
                callWatches[q].cancel();
            }
        }
        if (socketWatch != null) {
            socketWatch.cancel();
            socketWatch = null;
        }
        if (guest != null) {
            guest.close();
        }
        arena.close();
    }

    // ---- what the scenario reads between steps ----

    public State state() {
        return state;
    }

    /** When the VM began to go away (stop or hang-up), in simulated nanoseconds; -1 while it has not. */
    public long leftRunningAt() {
        return leftRunningAt;
    }

    /** Requests made available and not yet seen completed. */
    public int inFlight() {
        return inFlight[0] + inFlight[1];
    }

    public long completed() {
        return completionTimes.size();
    }

    public long failed() {
        return failed;
    }

    /** Used entries whose head was not in flight: a request completed twice. */
    public long secondCompletions() {
        return secondCompletions;
    }

    /** Whether the back end ended the session while the VM still ran its queues. */
    public boolean endedWhileRunning() {
        return endedWhileRunning;
    }

    /** The guest's RAM fd (to find the back end's mappings of it). */
    public int ramFd() {
        return guest.ram().fd();
    }

    /** The longest time without a completion from {@code from} to {@code to} (simulated nanoseconds). */
    public long maxGap(long from, long to) {
        long max = 0;
        long previous = from;
        for (long c : completionTimes) {
            if (c < from) {
                continue;
            }
            if (c >= to) {
                break;
            }
            max = Math.max(max, c - previous);
            previous = c;
        }
        return Math.max(max, to - previous);
    }
}
