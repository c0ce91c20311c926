package io.keel.nvmf.transport;

import io.keel.core.thread.KeelThread;

/** What every transport's poll group offers the code all transports share: its thread, its end, its statistics. */
public interface TransportPollGroup {
    /** The lightweight thread that owns the group and its qpairs (rule R1). */
    KeelThread thread();

    /** Closes every qpair and frees the group once they are gone (within a bound); {@code done} on the group's thread. */
    void stop(Runnable done);

    /** The group's statistics for nvmf_get_stats; on the group's thread. */
    Transport.PollGroupStats stats();
}
