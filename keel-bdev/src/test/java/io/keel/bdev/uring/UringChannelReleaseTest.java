package io.keel.bdev.uring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.bdev.BdevChannel;
import io.keel.bdev.BdevDesc;
import io.keel.bdev.BdevTestApp;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel owns a uring read's buffers, iovecs and ring until the read is reaped: a thread that submits reads,
 * puts its channel, closes its descriptor and exits in one go still gets every read back with its data, and
 * the ring goes only after that.
 */
class UringChannelReleaseTest {
    private static final int BLOCK = 4096;
    private static final int READS = 32;
    private static final int BLOCKS_PER_READ = 32;

    @TempDir
    Path tmp;

    @Test
    void readsInFlightWhenTheChannelIsPutAndTheThreadExitsStillCompleteWithTheirData() throws Exception {
        Path f = Files.createTempFile(UringTestSupport.directIoDir(tmp), "keel-release", ".img");
        int bytes = READS * BLOCKS_PER_READ * BLOCK;
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ByteBuffer data = ByteBuffer.allocate(bytes);
            for (int i = 0; i < bytes / 8; i++) {
                data.putLong(i);
            }
            ch.write(data.flip(), 0);
        }
        try (BdevTestApp t = BdevTestApp.start(tmp); Arena arena = Arena.ofShared()) {
            t.rpc("bdev_uring_create", Map.of("filename", f.toString(), "name", "U0", "block_size", BLOCK));
            UringModule module = (UringModule) t.layer().modules().stream().filter(m -> m instanceof UringModule)
                    .findFirst().orElseThrow();
            MemorySegment buf = arena.allocate(bytes, BLOCK);
            KeelThread w = t.thread("leaving", 1);
            AtomicInteger ok = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            CompletableFuture<Void> exited = new CompletableFuture<>();
            int inFlightAtPut = BdevTestApp.on(w, () -> {
                BdevDesc d = t.layer().open("U0", false, (e, b) -> { });
                IoChannel<BdevChannel> ch = d.getIoChannel();
                for (int i = 0; i < READS; i++) {
                    long off = (long) i * BLOCKS_PER_READ * BLOCK;
                    int rc = d.read(ch.context(), buf.asSlice(off, BLOCKS_PER_READ * BLOCK), (long) i * BLOCKS_PER_READ,
                            BLOCKS_PER_READ, (io, success, arg) -> {
                                (success ? ok : failed).incrementAndGet();
                                io.free();
                            }, null);
                    assertThat(rc).isZero();
                }
                int n = ch.context().outstanding();
                ch.put();
                d.close();
                w.exit(() -> exited.complete(null));
                return n;
            });

            assertThat(inFlightAtPut).isEqualTo(READS);
            exited.get(10, TimeUnit.SECONDS);
            assertThat(ok.get()).isEqualTo(READS);
            assertThat(failed.get()).isZero();
            for (int i = 0; i < bytes / 8; i++) {
                assertThat(buf.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 8L * i))
                        .as("long %d", i).isEqualTo(i);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> module.channels().channelCount() == 0);
        }
    }
}
