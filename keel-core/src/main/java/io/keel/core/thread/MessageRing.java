package io.keel.core.thread;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The real-time inbox: a bounded, lock-free multi-producer single-consumer ring of (function, argument)
 * slots that allocates nothing per message, after D. Vyukov's bounded queue (each slot carries a sequence
 * number that tells producers and the consumer whose turn it is).
 *
 * <p>When the ring is full a message is not refused: it goes to an overflow queue (which allocates), and
 * while anything is in the overflow every producer uses it too, so that each sender's messages stay in
 * order. The consumer drains the ring before the overflow; a producer only returns to the ring once the
 * overflow count has dropped to zero, that is after all earlier overflow messages have been consumed.
 *
 * <p>An exiting thread closes its ring with {@link #close()}: flag bits in {@code tail} make it refuse every
 * later offer, decided atomically with the check that nothing is queued, so a sender is either refused or its
 * message runs — never accepted and then dropped.
 *
 * <p>The owner's messages to itself (a flush at the end of its round, a completion run one message later) skip the
 * ring: they go to a plain queue only the owner touches, each with the ring's tail when it was sent, and a drain runs
 * them in between the ring's messages where they would have been in the ring — one order, as if in one queue (code and
 * tests rely on it: a message the owner sends itself runs before one another thread sent after seeing its effects).
 * A claim in the ring is a locked compare-and-set, which also waits for the owner's earlier stores to reach other
 * cores — right after a completion wrote into a ring a guest polls, that wait was a cross-core round trip per round.
 */
public final class MessageRing implements Inbox {
    private static final VarHandle SEQ = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle TAIL;

    static {
        try {
            TAIL = MethodHandles.lookup().findVarHandle(MessageRing.class, "tail", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Set in {@code tail} while the consumer checks the overflow before closing: producers wait for the verdict. */
    private static final long CLOSING = 1L << 62;
    /** Set in {@code tail} once closed for good: producers are refused. */
    private static final long CLOSED = 1L << 61;
    private static final long FLAGS = CLOSING | CLOSED;
    private static final int OFFERED = 0;
    private static final int RING_FULL = 1;
    private static final int REFUSED = 2;

    private final int mask;
    private final long[] sequences;
    private final MessageFn<?>[] fns;
    private final Object[] args;
    private final ConcurrentLinkedQueue<Object[]> overflow = new ConcurrentLinkedQueue<>();
    private final AtomicLong overflowCount = new AtomicLong();
    private final AtomicLong overflowTotal = new AtomicLong();

    @SuppressWarnings("unused") // written through TAIL
    private volatile long tail;
    private long head; // consumer only
    // the owner's messages to itself (owner only): a growable ring
    private KeelThread owner;
    private MessageFn<?>[] ownFns = new MessageFn<?>[64];
    private Object[] ownArgs = new Object[64];
    /** The ring's tail when each was sent: it runs before the ring's messages from that position on. */
    private long[] ownPositions = new long[64];
    private int ownHead;
    private int ownCount;

    public MessageRing(int capacity) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("ring capacity must be a power of two: " + capacity);
        }
        mask = capacity - 1;
        sequences = new long[capacity];
        fns = new MessageFn<?>[capacity];
        args = new Object[capacity];
        for (int i = 0; i < capacity; i++) {
            sequences[i] = i;
        }
    }

    @Override
    public void bind(KeelThread t) {
        owner = t;
    }

    @Override
    public boolean offer(KeelThread sender, MessageFn<?> fn, Object arg) {
        if (sender != null && sender == owner) {
            return offerOwn(fn, arg);
        }
        if (overflowCount.get() == 0) {
            int r = offerToRing(fn, arg);
            if (r != RING_FULL) {
                return r == OFFERED;
            }
        }
        overflowCount.incrementAndGet(); // announced before looking at the flags: close() sees us or we see it
        if ((openTail() & CLOSED) != 0) {
            overflowCount.decrementAndGet();
            return false;
        }
        overflowTotal.incrementAndGet();
        overflow.add(new Object[] {fn, arg});
        return true;
    }

    private boolean offerOwn(MessageFn<?> fn, Object arg) {
        long t = tail; // no close can be in progress: only the owner closes
        if ((t & CLOSED) != 0) {
            return false;
        }
        if (ownCount == ownFns.length) {
            growOwn();
        }
        int slot = (ownHead + ownCount) & (ownFns.length - 1);
        ownFns[slot] = fn;
        ownArgs[slot] = arg;
        ownPositions[slot] = t & ~FLAGS;
        ownCount++;
        return true;
    }

    private void runOwn(KeelThread owner) {
        int slot = ownHead;
        MessageFn<?> fn = ownFns[slot];
        Object arg = ownArgs[slot];
        ownFns[slot] = null;
        ownArgs[slot] = null;
        ownHead = (slot + 1) & (ownFns.length - 1);
        ownCount--;
        owner.execute(fn, arg);
    }

    private void growOwn() {
        int n = ownFns.length;
        MessageFn<?>[] fns2 = new MessageFn<?>[n * 2];
        Object[] args2 = new Object[n * 2];
        long[] positions2 = new long[n * 2];
        for (int i = 0; i < n; i++) {
            fns2[i] = ownFns[(ownHead + i) & (n - 1)];
            args2[i] = ownArgs[(ownHead + i) & (n - 1)];
            positions2[i] = ownPositions[(ownHead + i) & (n - 1)];
        }
        ownFns = fns2;
        ownArgs = args2;
        ownPositions = positions2;
        ownHead = 0;
    }

    /** Reads {@code tail}, waiting out a close in progress (a few instructions of the consumer's). */
    private long openTail() {
        long t;
        while (((t = tail) & CLOSING) != 0) {
            Thread.yield();
        }
        return t;
    }

    private int offerToRing(MessageFn<?> fn, Object arg) {
        while (true) {
            long pos = openTail();
            if ((pos & CLOSED) != 0) {
                return REFUSED;
            }
            int slot = (int) pos & mask;
            long seq = (long) SEQ.getAcquire(sequences, slot);
            long diff = seq - pos;
            if (diff == 0) {
                if (TAIL.compareAndSet(this, pos, pos + 1)) {
                    fns[slot] = fn;
                    args[slot] = arg;
                    SEQ.setRelease(sequences, slot, pos + 1);
                    return OFFERED;
                }
            } else if (diff < 0) {
                return RING_FULL;
            }
            // else another producer claimed this slot: retry with the new tail
        }
    }

    @Override
    public int drain(KeelThread owner, int max) {
        int ran = 0;
        while (ran < max) {
            long pos = head;
            int slot = (int) pos & mask;
            boolean ringReady = (long) SEQ.getAcquire(sequences, slot) == pos + 1;
            if (ownCount > 0 && (!ringReady || ownPositions[ownHead] <= pos)) {
                runOwn(owner); // sent before the ring's next message was claimed: runs first, as in one queue
                ran++;
                continue;
            }
            if (!ringReady) {
                break; // empty, or the producer that claimed this slot has not published it yet
            }
            MessageFn<?> fn = fns[slot];
            Object arg = args[slot];
            fns[slot] = null;
            args[slot] = null;
            SEQ.setRelease(sequences, slot, pos + mask + 1);
            head = pos + 1;
            owner.execute(fn, arg);
            ran++;
        }
        while (ran < max && overflowCount.get() > 0) {
            if ((long) SEQ.getAcquire(sequences, (int) head & mask) == head + 1) {
                break; // the ring refilled with messages sent before the overflow ones: keep ring order first
            }
            Object[] m = overflow.poll();
            if (m == null) {
                break; // counted but not yet linked in by its producer
            }
            overflowCount.decrementAndGet();
            owner.execute((MessageFn<?>) m[0], m[1]);
            ran++;
        }
        return ran;
    }

    @Override
    public boolean close() {
        if (ownCount > 0) {
            return false;
        }
        long h = head;
        if (!TAIL.compareAndSet(this, h, h | CLOSING)) {
            return false; // a message is in the ring, or a producer has claimed a slot
        }
        if (overflowCount.get() != 0) {
            tail = h; // a message is in the overflow, or on its way there: reopen
            return false;
        }
        tail = h | CLOSED;
        return true;
    }

    @Override
    public int forceClose() {
        long t;
        do {
            t = openTail();
        } while ((t & CLOSED) == 0 && !TAIL.compareAndSet(this, t, t | CLOSED));
        return size();
    }

    @Override
    public boolean isEmpty() {
        return ownCount == 0 && head == (tail & ~FLAGS) && overflowCount.get() == 0;
    }

    @Override
    public int size() {
        return ownCount + (int) Math.max(0, (tail & ~FLAGS) - head) + (int) overflowCount.get();
    }

    /** How many messages ever had to use the overflow queue (a full ring). */
    public long overflowTotal() {
        return overflowTotal.get();
    }
}
