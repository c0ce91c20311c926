package io.keel.bdev;

import io.keel.core.thread.KeelThread;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One message to each of a bdev's channels, on its own thread, all at once; each answers when it is done (maybe
 * later: a lock waits there for writes in flight), and when the last has answered, {@code then} runs on the
 * thread that started it. Unlike {@link io.keel.core.thread.IoDevice#forEachChannel}, which visits each thread's
 * live channel, this reaches a channel that is still releasing too: its writes in flight count for a lock.
 */
final class ChannelFanOut {
    private static final Logger LOG = LoggerFactory.getLogger(ChannelFanOut.class);

    private final AtomicInteger unanswered;
    private final KeelThread origin;
    private final Runnable then;

    private ChannelFanOut(int channels, KeelThread origin, Runnable then) {
        this.unanswered = new AtomicInteger(channels + 1); // + 1 until every message is out
        this.origin = origin;
        this.then = then;
    }

    /** Sends {@code visit} to each of {@code channels}; it must call {@link #answer()} once. From the origin thread. */
    static void visit(List<BdevChannel> channels, BiConsumer<BdevChannel, ChannelFanOut> visit, Runnable then) {
        ChannelFanOut f = new ChannelFanOut(channels.size(), KeelThread.current(), then);
        for (BdevChannel ch : channels) {
            if (!ch.thread().send(() -> visit.accept(ch, f))) {
                f.answer(); // its thread is gone, and its channel with it
            }
        }
        f.answer();
    }

    /** A channel is done; from its thread. */
    void answer() {
        if (unanswered.decrementAndGet() == 0 && !origin.send(then)) {
            LOG.error("range lock: thread {} exited before its lock or unlock completed", origin.name());
        }
    }
}
