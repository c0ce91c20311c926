package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.thread.KeelThread;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Descriptors on two reactors let go of a bdev at the same instant its removal starts, and a third opens it
 * while it goes: the removal finishes exactly once, every close returns, and an open either gets a descriptor
 * that is told REMOVE or fails with ENODEV.
 */
class BdevCloseRaceTest {
    @TempDir
    Path dir;

    @Test
    void concurrentClosesAndOpensDuringRemovalFinishItOnce() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            KeelThread a = t.thread("a", 0);
            KeelThread b = t.thread("b", 1);
            KeelThread late = t.thread("late", 1);
            for (int round = 0; round < 300; round++) {
                String name = "N" + round;
                t.rpc("bdev_null_create", Map.of("name", name, "block_size", 512, "num_blocks", 64));
                CompletableFuture<Void> closedA = openClosingOnRemove(t, a, name);
                CompletableFuture<Void> closedB = openClosingOnRemove(t, b, name);
                BdevTestApp.on(a, () -> null); // both opened
                BdevTestApp.on(b, () -> null);
                CompletableFuture<Void> lateOpen = openClosingOnRemove(t, late, name);
                CompletableFuture<Integer> removed = new CompletableFuture<>();
                Bdev bdev = t.layer().get(name);
                t.app.onAppThread(() -> t.layer().unregister(bdev, removed::complete));
                assertThat(removed.get(10, TimeUnit.SECONDS)).as("round %d", round).isZero();
                closedA.get(10, TimeUnit.SECONDS);
                closedB.get(10, TimeUnit.SECONDS);
                lateOpen.get(10, TimeUnit.SECONDS);
                assertThat(bdev.state()).isEqualTo(Bdev.State.REMOVED);
            }
        }
    }

    /** Opens on {@code on} and closes when told REMOVE; completes once closed, or at once if the open failed. */
    private static CompletableFuture<Void> openClosingOnRemove(BdevTestApp t, KeelThread on, String name) {
        CompletableFuture<Void> closed = new CompletableFuture<>();
        on.send(() -> {
            AtomicReference<BdevDesc> self = new AtomicReference<>();
            try {
                self.set(t.layer().open(name, false, (event, bdev) -> {
                    if (event == BdevEvent.REMOVE) {
                        try {
                            self.get().close();
                            closed.complete(null);
                        } catch (Throwable e) {
                            closed.completeExceptionally(e);
                        }
                    }
                }));
            } catch (BdevException e) {
                if (e.errno() == -io.keel.core.rpc.Errno.ENODEV) {
                    closed.complete(null); // opened too late: the bdev is going
                } else {
                    closed.completeExceptionally(e);
                }
            } catch (Throwable e) {
                closed.completeExceptionally(e);
            }
        });
        return closed;
    }
}
