package io.keel.app.bdevperf;

import static io.keel.app.bdevperf.Runs.config;
import static io.keel.app.bdevperf.Runs.malloc;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Json;
import io.keel.core.thread.CpuMask;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code keel bdevperf -w verify} on each raid level, from two cores, and on a raid1 that loses a member under load. */
class RaidBdevperfTest {
    @TempDir
    Path dir;

    private static String raid(String level, int stripKb, String... members) {
        return "{\"method\":\"bdev_raid_create\",\"params\":{\"name\":\"R\",\"raid_level\":\"" + level + "\","
                + (stripKb > 0 ? "\"strip_size_kb\":" + stripKb + "," : "")
                + "\"base_bdevs\":[\"" + String.join("\",\"", members) + "\"]}}";
    }

    private Runs.Outcome verify(String... entries) throws Exception {
        return verify(app -> { }, entries);
    }

    private Runs.Outcome verify(java.util.function.Consumer<KeelApp> beforeJobs, String... entries) throws Exception {
        // 16 KiB I/Os on 4 KiB strips: every raid0 I/O is split over members
        BdevperfOptions opts = BdevperfOptions.of(config(dir, entries), Workload.VERIFY, 16, 16384, 1)
                .withCores(CpuMask.of(0, 1)).withInterruptMode(true);
        Runs.Outcome o = Runs.run(opts, beforeJobs);
        assertThat(o.exitCode()).as(o.err()).isZero();
        assertThat(o.result().jobs()).hasSize(2).allSatisfy(j -> {
            assertThat(j.name()).isEqualTo("R");
            assertThat(j.ios()).isPositive();
            assertThat(j.failed()).isZero();
            assertThat(j.miscompares()).isZero();
        });
        return o;
    }

    @Test
    void raid0() throws Exception {
        verify(malloc("M0", 4096, 512), malloc("M1", 4096, 512), malloc("M2", 4096, 512), raid("raid0", 4, "M0", "M1",
                "M2"));
    }

    @Test
    void concatOfMembersOfDifferentSizes() throws Exception {
        verify(malloc("M0", 3000, 512), malloc("M1", 5000, 512), raid("concat", 4, "M0", "M1"));
    }

    @Test
    void raid1() throws Exception {
        verify(malloc("M0", 8192, 512), malloc("M1", 8192, 512), raid("raid1", 0, "M0", "M1"));
    }

    @Test
    void raid1LosingAMemberUnderLoadShowsNoError() throws Exception {
        AtomicReference<String> injected = new AtomicReference<>();
        verify(app -> failMemberSoon(app, injected), malloc("M0", 8192, 512), malloc("M1", 8192, 512),
                "{\"method\":\"bdev_error_create\",\"params\":{\"base_name\":\"M1\"}}", raid("raid1", 0, "M0", "EE_M1"));
        assertThat(injected.get()).isEqualTo("true");
    }

    /** A third of a second into the run, EE_M1 starts failing every I/O. */
    private static void failMemberSoon(KeelApp app, AtomicReference<String> answer) {
        Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                return;
            }
            ObjectNode req = Json.object();
            req.put("jsonrpc", "2.0");
            req.put("id", 1);
            req.put("method", "bdev_error_inject_error");
            ObjectNode p = req.putObject("params");
            p.put("name", "EE_M1");
            p.put("io_type", "all");
            p.put("error_type", "failure");
            p.put("num", 1_000_000);
            app.onAppThread(() -> app.methods().dispatch(req, r -> answer.set(String.valueOf(r.get("result")))));
        });
    }
}
