package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rule R5 at shutdown: a descriptor holder that ignores REMOVE cannot keep Keel from exiting. */
class ShutdownBoundTest {
    @TempDir
    Path dir;

    @Test
    void shutdownGoesOnWhenAHolderNeverCloses() throws Exception {
        BdevTestApp t = BdevTestApp.start(dir);
        t.rpc("bdev_malloc_create", Map.of("name", "M0", "block_size", 512, "num_blocks", 64));
        BdevTestApp.on(t.thread("deaf", 1), () -> t.layer().open("M0", true, (event, bdev) -> { })); // never closes
        long start = System.nanoTime();
        t.app.shutdown();
        assertThat(t.app.awaitExit(30_000)).isZero();
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        assertThat(seconds).as("bounded by the bdev subsystem's fini bound")
                .isBetween(BdevSubsystem.FINI_BOUND_MICROS / 1_000_000 - 1, BdevSubsystem.FINI_BOUND_MICROS / 1_000_000 + 10);
    }
}
