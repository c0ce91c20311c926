package io.keel.nvmf.transport;

import io.keel.core.thread.KeelThread;
import java.util.List;
import java.util.function.Consumer;

/**
 * What a transport asks of all its poll groups at once, from the application thread: a message to each group's
 * thread (rule R1), the answers counted back on the application thread.
 */
public final class PollGroupFanOut {
    private PollGroupFanOut() {
    }

    /**
     * Stops every group, lets each group's thread exit once its group has stopped, and runs {@code done} on
     * {@code appThread} after the last thread exited (at once when there are no groups).
     */
    public static void stopAll(KeelThread appThread, List<? extends TransportPollGroup> groups, Runnable done) {
        int[] left = {groups.size()};
        if (left[0] == 0) {
            done.run();
            return;
        }
        for (TransportPollGroup g : groups) {
            g.thread().send(() -> g.stop(() -> g.thread().exit(() -> appThread.send(() -> {
                if (--left[0] == 0) {
                    done.run();
                }
            }))));
        }
    }

    /** Gathers every group's statistics, in the groups' order; {@code done} on {@code appThread}. */
    public static void gatherStats(KeelThread appThread, List<? extends TransportPollGroup> groups,
            Consumer<List<Transport.PollGroupStats>> done) {
        Transport.PollGroupStats[] out = new Transport.PollGroupStats[groups.size()];
        int[] left = {groups.size()};
        if (left[0] == 0) {
            done.accept(List.of());
            return;
        }
        for (int i = 0; i < groups.size(); i++) {
            TransportPollGroup g = groups.get(i);
            int index = i;
            g.thread().send(() -> {
                Transport.PollGroupStats s = g.stats();
                appThread.send(() -> {
                    out[index] = s;
                    if (--left[0] == 0) {
                        done.accept(List.of(out));
                    }
                });
            });
        }
    }
}
