package io.keel.bdev.raid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.bdev.IoType;
import io.keel.bdev.passthru.VbdevHarness;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The raid bdev, level by level, through its RPCs: layout on the members, degraded and offline, delete. */
class RaidBdevTest {
    private static final int BLOCK = 512;

    @TempDir
    Path dir;
    VbdevHarness h;

    @BeforeEach
    void start() {
        h = VbdevHarness.start(dir);
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    private void create(String name, String level, int stripKb, String... members) {
        Map<String, Object> p = new java.util.HashMap<>(Map.of("name", name, "raid_level", level, "base_bdevs",
                List.of(members)));
        if (stripKb > 0) {
            p.put("strip_size_kb", stripKb);
        }
        assertThat(h.result("bdev_raid_create", p).asBoolean()).isTrue();
    }

    private JsonNode raidInfo(String category) {
        return h.result("bdev_raid_get_bdevs", Map.of("category", category));
    }

    private MemorySegment readMember(String member, long offset, long blocks) {
        VbdevHarness.Handle m = h.open(member, false);
        MemorySegment buf = h.buffer(blocks * BLOCK);
        assertThat(m.read(offset, buf).ok()).isTrue();
        m.close();
        return buf;
    }

    @Test
    void raid0SplitsAcrossStripsOntoTheRightMembers() {
        for (String m : new String[] {"M0", "M1", "M2"}) {
            h.malloc(m, 1000, BLOCK);
        }
        create("R0", "raid0", 4, "M0", "M1", "M2"); // strips of 8 blocks
        assertThat(h.bdev("R0").get("num_blocks").asLong()).isEqualTo(3 * 1000 / 8 * 8);
        VbdevHarness.Handle r = h.open("R0");
        MemorySegment data = h.pattern(64 * BLOCK, 3);
        assertThat(r.write(5, data).ok()).isTrue(); // raid blocks 5..68: strips 0..8, on every member
        MemorySegment back = h.buffer(64 * BLOCK);
        assertThat(r.read(5, back).ok()).isTrue();
        assertThat(VbdevHarness.differences(data, back)).isEmpty();
        // raid strip 1 (blocks 8..15) is member 1's strip 0; raid strip 4 (32..39) is member 1's strip 1
        assertThat(VbdevHarness.differences(readMember("M1", 0, 8), data.asSlice(3 * BLOCK, 8 * BLOCK))).isEmpty();
        assertThat(VbdevHarness.differences(readMember("M1", 8, 8), data.asSlice(27L * BLOCK, 8 * BLOCK))).isEmpty();
        assertThat(r.run(IoType.UNMAP, 3, 40, null).ok()).isTrue();
        assertThat(r.run(IoType.FLUSH, 0, 0, null).ok()).isTrue();
        assertThat(r.reset().ok()).isTrue();
        r.close();
    }

    @Test
    void concatCrossesMembersOfDifferentSizes() {
        h.malloc("M0", 100, BLOCK); // 96 blocks used: whole 8-block strips
        h.malloc("M1", 300, BLOCK); // 296 used
        create("C0", "concat", 4, "M0", "M1");
        assertThat(h.bdev("C0").get("num_blocks").asLong()).isEqualTo(96 + 296);
        VbdevHarness.Handle r = h.open("C0");
        MemorySegment data = h.pattern(20 * BLOCK, 5);
        assertThat(r.write(90, data).ok()).isTrue();
        MemorySegment back = h.buffer(20 * BLOCK);
        assertThat(r.read(90, back).ok()).isTrue();
        assertThat(VbdevHarness.differences(data, back)).isEmpty();
        assertThat(VbdevHarness.differences(readMember("M1", 0, 14), data.asSlice(6 * BLOCK, 14 * BLOCK))).isEmpty();
        assertThat(r.run(IoType.UNMAP, 80, 40, null).ok()).isTrue();
        r.close();
    }

    @Test
    void raid1MirrorsAndReadsFromBothMembers() {
        h.malloc("M0", 512, BLOCK);
        h.malloc("M1", 512, BLOCK);
        create("R1", "raid1", 0, "M0", "M1");
        VbdevHarness.Handle r = h.open("R1");
        MemorySegment data = h.pattern(32 * BLOCK, 7);
        assertThat(r.write(100, data).ok()).isTrue();
        assertThat(VbdevHarness.differences(readMember("M0", 100, 32), data)).isEmpty();
        assertThat(VbdevHarness.differences(readMember("M1", 100, 32), data)).isEmpty();
        long m0Before = readOps("M0");
        long m1Before = readOps("M1");
        MemorySegment buf = h.buffer(BLOCK);
        java.util.concurrent.atomic.AtomicInteger good = new java.util.concurrent.atomic.AtomicInteger();
        h.onWorker(() -> { // in flight together: the least loaded member alternates
            for (int i = 0; i < 32; i++) {
                assertThat(r.desc.read(r.channel(), buf, 100 + i, 1, (io, ok, arg) -> {
                    io.free();
                    if (ok) {
                        good.incrementAndGet();
                    }
                }, null)).isZero();
            }
            return null;
        });
        await().atMost(VbdevHarness.WAIT).until(() -> good.get() == 32);
        assertThat(readOps("M0") - m0Before).isPositive();
        assertThat(readOps("M1") - m1Before).isPositive();
        r.close();
    }

    private long readOps(String bdev) {
        for (JsonNode b : h.result("bdev_get_iostat", null).get("bdevs")) {
            if (b.get("name").asText().equals(bdev)) {
                return b.get("num_read_ops").asLong();
            }
        }
        throw new AssertionError("no iostat for " + bdev);
    }

    @Test
    void raid1WithAFailingMemberRunsDegradedWithoutErrors() {
        h.malloc("M0", 512, BLOCK);
        h.malloc("M1", 512, BLOCK);
        h.result("bdev_error_create", Map.of("base_name", "M1"));
        create("R1", "raid1", 0, "M0", "EE_M1");
        VbdevHarness.Handle r = h.open("R1");
        h.result("bdev_error_inject_error", Map.of("name", "EE_M1", "io_type", "all", "error_type", "failure",
                "num", 1000));
        MemorySegment data = h.pattern(8 * BLOCK, 9);
        for (int i = 0; i < 20; i++) {
            assertThat(r.write(8L * i, data).ok()).isTrue();
            MemorySegment back = h.buffer(8 * BLOCK);
            assertThat(r.read(8L * i, back).ok()).isTrue();
            assertThat(VbdevHarness.differences(data, back)).isEmpty();
        }
        await().atMost(VbdevHarness.WAIT).until(() -> raidInfo("online").get(0)
                .get("num_base_bdevs_operational").asInt() == 1);
        JsonNode info = raidInfo("all").get(0);
        assertThat(info.get("num_base_bdevs_discovered").asInt()).isEqualTo(1);
        assertThat(info.get("base_bdevs_list").get(1).get("name").isNull()).isTrue();
        assertThat(info.get("base_bdevs_list").get(1).get("uuid").asText())
                .isEqualTo("00000000-0000-0000-0000-000000000000");
        assertThat(info.get("base_bdevs_list").get(1).get("data_size").asLong()).isEqualTo(512);
        // the failed member is released: its claim is gone
        assertThat(h.bdev("EE_M1").get("claimed").asBoolean()).isFalse();
        assertThat(r.write(0, data).ok()).isTrue();
        // added back, it is rebuilt onto; its first window fails, which ends the rebuild and lets it go again
        assertThat(h.result("bdev_raid_add_base_bdev", Map.of("raid_bdev", "R1", "base_bdev", "EE_M1")).asBoolean())
                .isTrue();
        await().atMost(VbdevHarness.WAIT).until(() -> !h.bdev("EE_M1").get("claimed").asBoolean());
        info = raidInfo("online").get(0);
        assertThat(info.has("process")).isFalse();
        assertThat(info.get("num_base_bdevs_operational").asInt()).isEqualTo(1);
        assertThat(r.write(0, data).ok()).isTrue();
        r.close();
    }

    @Test
    void raid1NeverReadsFromAMemberThatMissedAWrite() {
        h.malloc("M0", 512, BLOCK);
        h.malloc("M1", 512, BLOCK);
        h.result("bdev_error_create", Map.of("base_name", "M1"));
        create("R1", "raid1", 0, "M0", "EE_M1");
        VbdevHarness.Handle r = h.open("R1");
        h.result("bdev_error_inject_error", Map.of("name", "EE_M1", "io_type", "write", "error_type", "failure",
                "num", 1));
        MemorySegment data = h.pattern(BLOCK, 11);
        MemorySegment[] back = new MemorySegment[32];
        java.util.concurrent.atomic.AtomicInteger good = new java.util.concurrent.atomic.AtomicInteger();
        // the app thread, which removes a failed member, is kept busy meanwhile: only the raid's own mark stops reads
        java.util.concurrent.CountDownLatch busy = new java.util.concurrent.CountDownLatch(1);
        h.app.onAppThread(() -> {
            busy.countDown();
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            busy.await();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        h.onWorker(() -> { // the write fails on EE_M1; reads right after it, in flight together, must not go there
            assertThat(r.desc.write(r.channel(), data, 7, 1, (io, ok, arg) -> {
                io.free();
                assertThat(ok).isTrue();
                for (int i = 0; i < back.length; i++) {
                    back[i] = h.buffer(BLOCK);
                    assertThat(r.desc.read(r.channel(), back[i], 7, 1, (rio, rok, rarg) -> {
                        rio.free();
                        if (rok) {
                            good.incrementAndGet();
                        }
                    }, null)).isZero();
                }
            }, null)).isZero();
            return null;
        });
        await().atMost(VbdevHarness.WAIT).until(() -> good.get() == back.length);
        for (MemorySegment b : back) {
            assertThat(VbdevHarness.differences(data, b)).isEmpty();
        }
        r.close();
    }

    @Test
    void raid0WithAFailingMemberGoesOffline() {
        h.malloc("M0", 512, BLOCK);
        h.malloc("M1", 512, BLOCK);
        h.result("bdev_error_create", Map.of("base_name", "M1"));
        create("R0", "raid0", 4, "M0", "EE_M1");
        VbdevHarness.Handle r = h.open("R0");
        h.result("bdev_error_inject_error", Map.of("name", "EE_M1", "io_type", "write", "error_type", "failure",
                "num", 1));
        assertThat(r.write(0, h.pattern(16 * BLOCK, 1)).ok()).isFalse();
        await().atMost(VbdevHarness.WAIT).until(() -> r.removed);
        assertThat(h.bdev("R0")).isNull();
        JsonNode offline = raidInfo("offline");
        assertThat(offline).hasSize(1);
        assertThat(offline.get(0).get("state").asText()).isEqualTo("offline");
        assertThat(h.bdev("M0").get("claimed").asBoolean()).isFalse();
        assertThat(h.result("bdev_raid_delete", Map.of("name", "R0")).asBoolean()).isTrue();
        assertThat(raidInfo("all")).isEmpty();
    }

    @Test
    void removingAMemberLeavesRaid1DegradedAndRaid0Offline() {
        for (String m : new String[] {"A0", "A1", "B0", "B1"}) {
            h.malloc(m, 512, BLOCK);
        }
        create("R1", "raid1", 0, "A0", "A1");
        create("R0", "raid0", 4, "B0", "B1");
        assertThat(h.result("bdev_raid_remove_base_bdev", Map.of("name", "A0")).asBoolean()).isTrue();
        assertThat(h.bdev("A0").get("claimed").asBoolean()).isFalse();
        JsonNode r1 = raidInfo("online").get(0);
        assertThat(r1.get("name").asText()).isEqualTo("R1");
        assertThat(r1.get("num_base_bdevs_operational").asInt()).isEqualTo(1);
        // deleting a member's bdev is a hot-remove
        assertThat(h.result("bdev_malloc_delete", Map.of("name", "B1")).asBoolean()).isTrue();
        await().atMost(VbdevHarness.WAIT).until(() -> raidInfo("offline").size() == 1);
        assertThat(h.bdev("R0")).isNull();
        VbdevHarness.Handle r = h.open("R1");
        MemorySegment data = h.pattern(4 * BLOCK, 2);
        assertThat(r.write(0, data).ok()).isTrue();
        assertThat(r.reset().ok()).isTrue(); // the missing member is not a failed part
        r.close();
    }

    @Test
    void configuringUntilTheLastMemberArrives() {
        h.malloc("M1", 512, BLOCK);
        create("R1", "raid1", 0, "M0", "M1");
        JsonNode c = raidInfo("configuring");
        assertThat(c).hasSize(1);
        assertThat(c.get(0).get("num_base_bdevs_discovered").asInt()).isEqualTo(1);
        assertThat(h.bdev("M1").get("claimed").asBoolean()).isTrue();
        assertThat(h.bdev("R1")).isNull();
        h.malloc("M0", 512, BLOCK);
        assertThat(raidInfo("online")).hasSize(1);
        assertThat(h.bdev("R1").get("driver_specific").get("raid").get("state").asText()).isEqualTo("online");
        assertThat(h.error("bdev_raid_create", Map.of("name", "R1", "raid_level", "raid1", "base_bdevs",
                List.of("X", "Y")))).isEqualTo(-17);
    }

    @Test
    void answersHaveSpdksShapes() {
        h.malloc("M0", 512, BLOCK);
        h.malloc("M1", 512, BLOCK);
        create("R1", "raid1", 0, "M0", "M1");
        assertThat(fieldNames(raidInfo("all").get(0)))
                .isEqualTo(fieldNames(SpdkReference.sample("raid_get_bdevs_online.json").get(0)));
        assertThat(fieldNames(raidInfo("all").get(0).get("base_bdevs_list").get(0))).isEqualTo(fieldNames(
                SpdkReference.sample("raid_get_bdevs_online.json").get(0).get("base_bdevs_list").get(0)));
        assertThat(fieldNames(h.bdev("R1").get("driver_specific").get("raid"))).isEqualTo(fieldNames(
                SpdkReference.sample("bdev_get_bdevs_raid1.json").get(0).get("driver_specific").get("raid")));
    }

    private static List<String> fieldNames(JsonNode o) {
        List<String> names = new ArrayList<>();
        o.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void aConfiguringRaidTakesAnotherMemberIntoAnEmptiedSlot() {
        h.malloc("M0", 512, BLOCK);
        h.malloc("M2", 512, BLOCK);
        create("R1", "raid1", 0, "M0", "M1");
        assertThat(h.error("bdev_raid_add_base_bdev", Map.of("raid_bdev", "R1", "base_bdev", "M2"))).isEqualTo(-22);
        assertThat(h.result("bdev_raid_remove_base_bdev", Map.of("name", "M0")).asBoolean()).isTrue();
        assertThat(h.bdev("M0").get("claimed").asBoolean()).isFalse();
        assertThat(raidInfo("configuring").get(0).get("base_bdevs_list").get(0).get("name").isNull()).isTrue();
        assertThat(h.result("bdev_raid_add_base_bdev", Map.of("raid_bdev", "R1", "base_bdev", "M2")).asBoolean())
                .isTrue();
        assertThat(h.bdev("M2").get("claimed").asBoolean()).isTrue();
        h.malloc("M1", 512, BLOCK);
        JsonNode online = raidInfo("online").get(0);
        assertThat(online.get("base_bdevs_list").get(0).get("name").asText()).isEqualTo("M2");
        assertThat(online.get("base_bdevs_list").get(1).get("name").asText()).isEqualTo("M1");
    }

    @Test
    void deleteWithIoInFlightCompletesCleanly() {
        for (String m : new String[] {"M0", "M1"}) {
            h.malloc(m, 4096, BLOCK);
        }
        create("R0", "raid0", 4, "M0", "M1");
        VbdevHarness.Handle r = h.open("R0");
        List<CompletableFuture<VbdevHarness.IoResult>> ios = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            ios.add(r.submit(IoType.WRITE, 64L * i, 64, h.pattern(64 * BLOCK, i)));
        }
        assertThat(h.result("bdev_raid_delete", Map.of("name", "R0")).asBoolean()).isTrue();
        ios.forEach(VbdevHarness::done);
        assertThat(r.removed).isTrue();
        assertThat(h.bdev("R0")).isNull();
        assertThat(h.bdev("M0").get("claimed").asBoolean()).isFalse();
        assertThat(h.bdev("M1").get("claimed").asBoolean()).isFalse();
        assertThat(raidInfo("all")).isEmpty();
    }

    @Test
    void saveConfigHasOptionsFirstThenRaidsAfterTheirMembers() {
        h.malloc("M0", 512, BLOCK);
        h.malloc("M1", 512, BLOCK);
        h.result("bdev_raid_set_options", Map.of("process_window_size_kb", 2048));
        create("R0", "raid0", 64, "M0", "M1");
        // SPDK's order (spdk-rpc-samples/framework_get_config_bdev_raid0_concat_nosb.json)
        assertThat(h.configMethods()).containsSubsequence("bdev_set_options", "bdev_raid_set_options",
                "bdev_malloc_create", "bdev_malloc_create", "bdev_raid_create", "bdev_wait_for_examine");
        assertThat(h.configParams("bdev_raid_set_options").get("process_window_size_kb").asInt()).isEqualTo(2048);
        JsonNode p = h.configParams("bdev_raid_create");
        assertThat(p.get("strip_size_kb").asInt()).isEqualTo(64);
        assertThat(p.get("base_bdevs").toString()).isEqualTo("[\"M0\",\"M1\"]");
        assertThat(p.get("uuid").asText()).isEqualTo(h.bdev("R0").get("uuid").asText());
    }
}
