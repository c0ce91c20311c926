package io.keel.core.thread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.core.reactor.ReactorOptions;
import io.keel.core.reactor.ReactorRuntime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Unregistering an io_device is asynchronous (rule R4): no new channel can be made once it starts, and the
 * caller's completion runs on the caller only after every channel has been released and destroyed on its
 * own thread.
 */
class IoDeviceUnregisterTest {
    private final List<String> events = new CopyOnWriteArrayList<>();
    private ReactorRuntime rt;
    private IoDevice<String> device;

    @BeforeEach
    void start() {
        rt = ReactorRuntime.start(ReactorOptions.defaults(CpuMask.of(0, 1), true));
        device = IoDevice.register("nvme0n1", KeelThread::name, ctx -> events.add("destroyed " + ctx));
    }

    @AfterEach
    void stop() {
        rt.close();
    }

    @Test
    void completesOnlyAfterEveryChannelIsGone() {
        KeelThread caller = rt.createThread("rpc_caller");
        List<KeelThread> holders = new ArrayList<>();
        List<IoChannel<String>> channels = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            KeelThread t = rt.createThread("io" + i, CpuMask.of(i % 2));
            holders.add(t);
            channels.add(OnThread.call(t, () -> t.getIoChannel(device)));
        }
        CompletableFuture<String> unregistered = new CompletableFuture<>();

        caller.send(() -> device.unregister(() -> {
            events.add("unregistered");
            unregistered.complete(KeelThread.current().name());
        }));
        OnThread.run(caller, () -> { });
        for (int i = 0; i < 2; i++) {
            OnThread.run(holders.get(i), channels.get(i)::put);
            OnThread.run(holders.get(i), () -> { }); // its deferred destroy has run
        }
        OnThread.run(caller, () -> { }); // a completion sent to the caller would have run

        assertThat(unregistered).as("one channel is still held").isNotDone();
        assertThat(device.channelCount()).isEqualTo(1);

        OnThread.run(holders.get(2), channels.get(2)::put);

        assertThat(OnThread.await(unregistered)).isEqualTo("rpc_caller");
        assertThat(events).hasSize(4).endsWith("unregistered")
                .containsExactlyInAnyOrder("destroyed io0", "destroyed io1", "destroyed io2", "unregistered");
        assertThat(device.channelCount()).isZero();
    }

    @Test
    void noNewChannelOnceUnregistering() {
        KeelThread holder = rt.createThread("holder", CpuMask.of(0));
        KeelThread late = rt.createThread("late", CpuMask.of(1));
        IoChannel<String> held = OnThread.call(holder, () -> holder.getIoChannel(device));
        CompletableFuture<Void> unregistered = new CompletableFuture<>();
        holder.send(() -> device.unregister(() -> unregistered.complete(null)));
        OnThread.run(holder, () -> { });

        IoChannel<String> refused = OnThread.call(late, () -> late.getIoChannel(device));

        assertThat(refused).isNull();
        assertThat(unregistered).isNotDone();
        OnThread.run(holder, held::put);
        OnThread.await(unregistered);
    }

    @Test
    void aDeviceWithoutChannelsUnregistersAtOnceButStillAsynchronously() {
        KeelThread caller = rt.createThread("rpc_caller");

        List<String> order = OnThread.call(caller, () -> {
            List<String> seen = new CopyOnWriteArrayList<>();
            device.unregister(() -> seen.add("done"));
            seen.add("unregister returned");
            return seen;
        });

        await().atMost(Duration.ofSeconds(5)).until(() -> order.size() == 2);
        assertThat(order).containsExactly("unregister returned", "done");
    }
}
