package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.core.thread.KeelThread;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exclusive-write claims, as a RAID or NVMe-oF namespace takes them. */
class BdevClaimTest {
    @TempDir
    Path dir;

    private static final BdevModule RAID = () -> "raid";
    private static final BdevModule NVMF = () -> "nvmf";

    @Test
    void oneWriterClaimsTheOthersAreRefused() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            t.rpc("bdev_malloc_create", Map.of("name", "M0", "block_size", 512, "num_blocks", 64));
            KeelThread w = t.thread("w", 0);
            CompletableFuture<BdevEvent> told = new CompletableFuture<>();
            BdevDesc claimed = BdevTestApp.on(w, () -> {
                BdevDesc d = t.layer().open("M0", true, (e, b) -> told.complete(e));
                t.layer().claim(d, RAID);
                return d;
            });
            assertThat(t.rpc("bdev_get_bdevs", Map.of("name", "M0")).get(0).get("claimed").asBoolean()).isTrue();
            assertThatThrownBy(() -> BdevTestApp.on(w, () -> t.layer().open("M0", true, (e, b) -> { })))
                    .hasMessageContaining("claimed by module raid");
            BdevDesc reader = BdevTestApp.on(w, () -> t.layer().open("M0", false, (e, b) -> { }));
            assertThatThrownBy(() -> BdevTestApp.on(w, () -> {
                t.layer().claim(reader, NVMF);
                return null;
            })).hasMessageContaining("already claimed");

            // deleting a claimed bdev is allowed, as in SPDK: the claimant is told to let go
            CompletableFuture<Boolean> deleted = CompletableFuture.supplyAsync(
                    () -> t.rpc("bdev_malloc_delete", Map.of("name", "M0")).asBoolean());
            assertThat(told.get(10, TimeUnit.SECONDS)).isEqualTo(BdevEvent.REMOVE);
            BdevTestApp.on(w, () -> {
                claimed.close();
                reader.close();
                return null;
            });
            assertThat(deleted.get(10, TimeUnit.SECONDS)).isTrue();
        }
    }
}
