package io.keel.core.thread;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The simulation's inbox: one FIFO lane per sender. Per-sender order is kept, and the simulation chooses
 * which sender's next message is delivered, which is how different seeds explore different interleavings
 * of messages from different senders. Single OS thread; allocates per message (simulation only).
 */
final class LaneInbox implements Inbox {
    /** Lane of messages sent from outside any lightweight thread. */
    static final long EXTERNAL = 0;

    private record Message(MessageFn<?> fn, Object arg) {
    }

    private final Map<Long, ArrayDeque<Message>> lanes = new LinkedHashMap<>();
    private int size;
    private boolean closed;

    @Override
    public boolean offer(KeelThread sender, MessageFn<?> fn, Object arg) {
        if (closed) {
            return false;
        }
        long lane = sender == null ? EXTERNAL : sender.id();
        lanes.computeIfAbsent(lane, k -> new ArrayDeque<>()).add(new Message(fn, arg));
        size++;
        return true;
    }

    @Override
    public boolean close() {
        closed = size == 0;
        return closed;
    }

    @Override
    public int forceClose() {
        closed = true;
        return size;
    }

    /** The senders with a message waiting, in the order their lanes were first used (deterministic). */
    List<Long> nonEmptyLanes() {
        List<Long> out = new ArrayList<>();
        lanes.forEach((k, q) -> {
            if (!q.isEmpty()) {
                out.add(k);
            }
        });
        return out;
    }

    /** Runs the oldest message of one sender's lane on {@code owner}. */
    void deliverFrom(long lane, KeelThread owner) {
        Message m = lanes.get(lane).poll();
        size--;
        owner.execute(m.fn(), m.arg());
    }

    @Override
    public int drain(KeelThread owner, int max) {
        int ran = 0;
        for (long lane : nonEmptyLanes()) {
            while (ran < max && !lanes.get(lane).isEmpty()) {
                deliverFrom(lane, owner);
                ran++;
            }
        }
        return ran;
    }

    @Override
    public boolean isEmpty() {
        return size == 0;
    }

    @Override
    public int size() {
        return size;
    }
}
