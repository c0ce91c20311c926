package io.keel.core.app;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.keel.core.reactor.Reactor;
import io.keel.core.rpc.RpcMethods;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Reactor and thread statistics in SPDK's shapes. Each thread reports its own numbers on itself (rule R1),
 * visited in turn by {@code forEachThread}; the answer goes out when the last one has reported.
 */
final class ThreadRpcs {
    record LwThread(String name, long id, String cpumask, long elapsed) {
    }

    record ReactorInfo(int lcore, int numaId, int tid, long busy, long idle, boolean inInterrupt, long irq, long sys,
            long usr, List<LwThread> lwThreads, long keelAllocatedBytes) {
    }

    record Reactors(long tickRate, long pid, List<ReactorInfo> reactors) {
    }

    record ThreadStats(String name, long id, String cpumask, long busy, long idle, int activePollersCount,
            int timedPollersCount, int pausedPollersCount) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record PollerInfo(String name, long id, String state, long runCount, long busyCount, Long periodTicks) {
    }

    record ThreadPollers(String name, long id, List<PollerInfo> activePollers, List<PollerInfo> timedPollers,
            List<PollerInfo> pausedPollers) {
    }

    record ChannelInfo(String name, int ref) {
    }

    record ThreadChannels(String name, List<ChannelInfo> ioChannels) {
    }

    record PerThread<T>(long tickRate, List<T> threads) {
    }

    private ThreadRpcs() {
    }

    static void register(KeelApp app) {
        RpcMethods m = app.methods();
        m.register("framework_get_reactors", Void.class, (p, call) -> call.respond(reactors(app)));
        m.register("thread_get_stats", Void.class, (p, call) -> gather(app, ThreadRpcs::stats, call::respond));
        m.register("thread_get_pollers", Void.class, (p, call) -> gather(app, ThreadRpcs::pollers, call::respond));
        m.register("thread_get_io_channels", Void.class, (p, call) -> gather(app, ThreadRpcs::channels, call::respond));
    }

    private static <T> void gather(KeelApp app, Function<KeelThread, T> onEach,
            java.util.function.Consumer<PerThread<T>> done) {
        List<T> out = new ArrayList<>();
        app.runtime().forEachThread(t -> out.add(onEach.apply(t)),
                () -> done.accept(new PerThread<>(app.runtime().clock().tickRate(), out)));
    }

    private static ThreadStats stats(KeelThread t) {
        List<Poller> all = t.allPollers();
        int paused = (int) all.stream().filter(p -> p.state() == Poller.State.PAUSED).count();
        int timed = (int) all.stream().filter(p -> p.timed() && p.state() != Poller.State.PAUSED).count();
        int active = all.size() - paused - timed;
        return new ThreadStats(t.name(), t.id(), t.cpumask().toString(), t.busyNanos(), t.idleNanos(), active, timed, paused);
    }

    private static ThreadPollers pollers(KeelThread t) {
        List<PollerInfo> active = new ArrayList<>();
        List<PollerInfo> timed = new ArrayList<>();
        List<PollerInfo> paused = new ArrayList<>();
        for (Poller p : t.allPollers()) {
            PollerInfo info = new PollerInfo(p.name(), p.id(), p.state().wireName(), p.runCount(), p.busyCount(),
                    p.timed() ? p.periodNanos() : null);
            (p.state() == Poller.State.PAUSED ? paused : p.timed() ? timed : active).add(info);
        }
        return new ThreadPollers(t.name(), t.id(), active, timed, paused);
    }

    private static ThreadChannels channels(KeelThread t) {
        List<ChannelInfo> list = new ArrayList<>();
        for (IoChannel<?> ch : t.ioChannels()) {
            list.add(new ChannelInfo(ch.device().name(), ch.refs()));
        }
        return new ThreadChannels(t.name(), list);
    }

    private static Reactors reactors(KeelApp app) {
        long now = app.runtime().clock().nanoTime();
        List<ReactorInfo> out = new ArrayList<>();
        for (Reactor r : app.runtime().reactors()) {
            List<LwThread> lw = new ArrayList<>();
            for (KeelThread t : r.threads()) {
                lw.add(new LwThread(t.name(), t.id(), t.cpumask().toString(), now - t.createdNanos()));
            }
            long[] cpu = coreTimes(r.core());
            out.add(new ReactorInfo(r.core(), 0, r.tid(), r.busyNanos(), r.idleNanos(), r.interruptMode(),
                    cpu[2], cpu[1], cpu[0], lw, r.allocatedBytes()));
        }
        return new Reactors(app.runtime().clock().tickRate(), ProcessHandle.current().pid(), out);
    }

    /** The core's user, system and irq time from /proc/stat (in USER_HZ ticks, as SPDK reports them). */
    private static long[] coreTimes(int core) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
                if (line.startsWith("cpu" + core + " ")) {
                    String[] f = line.trim().split("\\s+");
                    return new long[] {Long.parseLong(f[1]), Long.parseLong(f[3]), Long.parseLong(f[6])};
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or an unexpected format: report zeros rather than fail the whole answer
        }
        return new long[3];
    }
}
