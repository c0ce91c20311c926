package io.keel.nvmf.ctrlr;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * When a queue of a controller last received a command (rule R8: keep-alive is judged on the controller, over
 * ALL its queues, which may live on different threads). Each queue owns one of these and is its only writer
 * ({@link #touch}, a plain release store, no lock, no message per command); the controller's thread only reads
 * it ({@link #lastNanos}) when it checks the keep-alive timer.
 */
public final class QueueActivity {
    private static final VarHandle LAST;

    static {
        try {
            LAST = MethodHandles.lookup().findVarHandle(QueueActivity.class, "last", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int qid;
    @SuppressWarnings("unused")
    private long last;

    public QueueActivity(int qid, long nowNanos) {
        this.qid = qid;
        LAST.setRelease(this, nowNanos);
    }

    public int qid() {
        return qid;
    }

    /** Records that a command arrived at {@code nowNanos} (the queue's owner thread). */
    public void touch(long nowNanos) {
        LAST.setRelease(this, nowNanos);
    }

    /** The time of the last command (any thread). */
    public long lastNanos() {
        return (long) LAST.getAcquire(this);
    }
}
