package io.keel.bdev.raid;

import io.keel.bdev.BdevDesc;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Writes a raid's superblock one write at a time: two writes in flight to block 0 of a member could land in either
 * order and leave the older one there. A write asked for while one is in flight waits; all those waiting then go as
 * one write of the superblock as it is by then. App thread.
 */
final class SuperblockWriter {
    /** What a failed write is told to. */
    interface Failure {
        void failed(RaidSuperblock sb, int rc);
    }

    private final Supplier<RaidSuperblock> next;
    private final Supplier<List<BdevDesc>> members;
    private final Failure failure;
    private boolean writing;
    private final List<Runnable> waiting = new ArrayList<>();

    /**
     * {@code next}: the superblock to write, its sequence number one up (the raid keeps it as its own);
     * {@code members}: where it goes, at the time of the write.
     */
    SuperblockWriter(Supplier<RaidSuperblock> next, Supplier<List<BdevDesc>> members, Failure failure) {
        this.next = next;
        this.members = members;
        this.failure = failure;
    }

    /** Whether a write is in flight. */
    boolean busy() {
        return writing;
    }

    /** Writes the superblock, after the write in flight if there is one; {@code then} once it is written (or failed). */
    void write(Runnable then) {
        if (writing) {
            waiting.add(then);
            return;
        }
        writing = true;
        RaidSuperblock sb = next.get();
        SuperblockIo.write(sb, members.get(), rc -> {
            if (rc != 0) {
                failure.failed(sb, rc);
            }
            writing = false;
            if (!waiting.isEmpty()) { // started before then runs: a write that then asks for waits behind it
                List<Runnable> batch = List.copyOf(waiting);
                waiting.clear();
                write(() -> batch.forEach(Runnable::run));
            }
            then.run();
        });
    }
}
