package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.reactor.ReactorOptions;
import io.keel.core.reactor.ReactorRuntime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SPDK's {@code spdk_for_each_channel} on real reactors: the function sees every thread's channel exactly
 * once, on the thread that owns it, one after another in thread creation order; then the completion runs
 * on the thread that started the walk. A non-zero status stops the walk and reaches the completion.
 */
class IoDeviceForEachChannelTest {
    private ReactorRuntime rt;
    private IoDevice<String> device;
    private final List<KeelThread> holders = new ArrayList<>();
    private KeelThread caller;

    @BeforeEach
    void fourThreadsOnTwoReactorsHoldAChannel() {
        rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0, 1), true));
        device = IoDevice.register("bdev_malloc0", KeelThread::name, ctx -> { });
        caller = rt.createThread("rpc_caller", CpuMask.of(0)); // holds no channel itself
        for (int i = 0; i < 4; i++) {
            KeelThread t = rt.createThread("io" + i, CpuMask.of(i % 2));
            OnThread.run(t, () -> t.getIoChannel(device));
            holders.add(t);
        }
    }

    @AfterEach
    void stop() {
        rt.close();
    }

    private record Visit(String channel, String ranOn, boolean completionAlreadyRan) {
    }

    @Test
    void visitsEachChannelOnceOnItsOwnerThenCompletesOnTheCaller() {
        List<Visit> visits = new CopyOnWriteArrayList<>();
        CompletableFuture<String> completion = new CompletableFuture<>();

        caller.send(() -> device.forEachChannel(
                (it, ch) -> {
                    visits.add(new Visit(ch.context(), KeelThread.current().name(), completion.isDone()));
                    it.next(0);
                },
                status -> completion.complete(KeelThread.current().name() + " status=" + status)));

        assertThat(OnThread.await(completion)).isEqualTo("rpc_caller status=0");
        assertThat(visits).containsExactly(
                new Visit("io0", "io0", false), new Visit("io1", "io1", false),
                new Visit("io2", "io2", false), new Visit("io3", "io3", false));
    }

    @Test
    void theWalkMayContinueLaterFromAnotherMessage() {
        List<String> visited = new CopyOnWriteArrayList<>();
        CompletableFuture<Integer> completion = new CompletableFuture<>();

        caller.send(() -> device.forEachChannel(
                (it, ch) -> {
                    visited.add(ch.context());
                    KeelThread.current().send(() -> it.next(0)); // asynchronous step, as a real module does
                },
                completion::complete));

        assertThat(OnThread.await(completion)).isZero();
        assertThat(visited).containsExactly("io0", "io1", "io2", "io3");
    }

    @Test
    void aNonZeroStatusStopsTheWalkAndReachesTheCompletion() {
        List<String> visited = new CopyOnWriteArrayList<>();
        CompletableFuture<String> completion = new CompletableFuture<>();

        caller.send(() -> device.forEachChannel(
                (it, ch) -> {
                    visited.add(ch.context());
                    it.next(ch.context().equals("io1") ? -5 : 0);
                },
                status -> completion.complete(KeelThread.current().name() + " status=" + status)));

        assertThat(OnThread.await(completion)).isEqualTo("rpc_caller status=-5");
        assertThat(visited).containsExactly("io0", "io1");
    }

    @Test
    void aThreadThatReleasedItsChannelIsSkipped() {
        KeelThread leaver = holders.get(2);
        OnThread.run(leaver, () -> leaver.ioChannels().getFirst().put());
        OnThread.run(leaver, () -> { }); // its deferred destroy has run

        List<String> visited = new CopyOnWriteArrayList<>();
        CompletableFuture<Integer> completion = new CompletableFuture<>();
        caller.send(() -> device.forEachChannel((it, ch) -> {
            visited.add(ch.context());
            it.next(0);
        }, completion::complete));

        assertThat(OnThread.await(completion)).isZero();
        assertThat(visited).containsExactly("io0", "io1", "io3");
    }
}
