package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.core.reactor.ReactorOptions;
import io.keel.core.reactor.ReactorRuntime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An io_channel's life on real reactors: made by the device's create callback on the thread that first asks
 * for it, shared by later requests on that thread (reference counted), one per thread, and destroyed on its
 * own thread — after the call that dropped the last reference, so a put followed by a get reuses it.
 */
class IoChannelLifecycleTest {
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final AtomicInteger contexts = new AtomicInteger();
    private ReactorRuntime rt;
    private IoDevice<String> device;

    @BeforeEach
    void start() {
        rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0, 1), true));
        device = IoDevice.register("nvme0",
                t -> {
                    events.add("create on " + KeelThread.current().name() + " for " + t.name());
                    return "ctx" + contexts.incrementAndGet() + "@" + t.name();
                },
                ctx -> events.add("destroy " + ctx + " on " + KeelThread.current().name()));
    }

    @AfterEach
    void stop() {
        rt.close();
    }

    @Test
    void theFirstGetCreatesTheChannelOnItsThreadAndLaterGetsShareIt() {
        KeelThread t = rt.createThread("app_thread");

        String summary = OnThread.call(t, () -> {
            IoChannel<String> first = t.getIoChannel(device);
            IoChannel<String> second = t.getIoChannel(device);
            return (first == second) + " refs=" + second.refs() + " ctx=" + second.context() + " owner=" + second.thread().name();
        });

        assertThat(summary).isEqualTo("true refs=2 ctx=ctx1@app_thread owner=app_thread");
        assertThat(events).containsExactly("create on app_thread for app_thread");
        assertThat(device.channelCount()).isEqualTo(1);
    }

    @Test
    void eachThreadHasItsOwnChannel() {
        KeelThread a = rt.createThread("a", CpuMask.of(0));
        KeelThread b = rt.createThread("b", CpuMask.of(1));

        String ctxA = OnThread.call(a, () -> a.getIoChannel(device).context());
        String ctxB = OnThread.call(b, () -> b.getIoChannel(device).context());

        assertThat(ctxA).isEqualTo("ctx1@a");
        assertThat(ctxB).isEqualTo("ctx2@b");
        assertThat(device.channelCount()).isEqualTo(2);
    }

    @Test
    void theLastPutDestroysTheChannelOnItsOwnThreadAfterThePutReturns() {
        KeelThread t = rt.createThread("app_thread");
        IoChannel<String> ch = OnThread.call(t, () -> {
            IoChannel<String> c = t.getIoChannel(device);
            t.getIoChannel(device);
            return c;
        });

        OnThread.run(t, ch::put);
        OnThread.run(t, () -> { }); // anything the put scheduled on the thread has run by now
        assertThat(events).as("one reference left").doesNotContain("destroy ctx1@app_thread on app_thread");

        String inThePutCall = OnThread.call(t, () -> {
            ch.put();
            return String.join(",", events);
        });
        assertThat(inThePutCall).as("not destroyed inside put()").doesNotContain("destroy");

        await().atMost(Duration.ofSeconds(5)).until(() -> device.channelCount() == 0);
        assertThat(events).containsExactly("create on app_thread for app_thread", "destroy ctx1@app_thread on app_thread");
        assertThat(OnThread.call(t, t::ioChannels)).isEmpty();
    }

    @Test
    void aGetRightAfterTheLastPutReusesTheChannel() {
        KeelThread t = rt.createThread("app_thread");

        String again = OnThread.call(t, () -> {
            IoChannel<String> c = t.getIoChannel(device);
            c.put();
            return t.getIoChannel(device).context();
        });
        OnThread.run(t, () -> { }); // the deferred destroy check has run by now

        assertThat(again).isEqualTo("ctx1@app_thread");
        assertThat(events).containsExactly("create on app_thread for app_thread");
        assertThat(device.channelCount()).isEqualTo(1);
    }

    @Test
    void aThreadListsItsChannelsInTheOrderItTookThem() {
        KeelThread t = rt.createThread("app_thread");
        List<IoDevice<String>> devices = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            devices.add(IoDevice.register("dev" + i, x -> "unused", ctx -> { }));
        }
        List<IoDevice<String>> takenOrder = new ArrayList<>(devices);
        Collections.shuffle(takenOrder, new Random(5));

        List<String> listed = OnThread.call(t, () -> {
            takenOrder.forEach(t::getIoChannel);
            return t.ioChannels().stream().map(ch -> ch.device().name()).toList();
        });

        assertThat(listed).isEqualTo(takenOrder.stream().map(IoDevice::name).toList());
    }

    @Test
    void aGetAfterTheChannelWasDestroyedCreatesAFreshOne() {
        KeelThread t = rt.createThread("app_thread");
        OnThread.run(t, () -> t.getIoChannel(device).put());
        await().atMost(Duration.ofSeconds(5)).until(() -> device.channelCount() == 0);

        String ctx = OnThread.call(t, () -> t.getIoChannel(device).context());

        assertThat(ctx).isEqualTo("ctx2@app_thread");
    }
}
