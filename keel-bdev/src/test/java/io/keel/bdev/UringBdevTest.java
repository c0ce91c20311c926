package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The uring bdev on a real file: integrity from several threads, misaligned and vectored buffers, flush, errors. */
class UringBdevTest {
    private static final int BLOCK = 4096;

    @TempDir
    Path dir;

    private Path file(long bytes) throws Exception {
        Path f = dir.resolve("disk.img");
        try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(0);
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {0}), bytes - 1);
        }
        return f;
    }

    @Test
    void threeThreadsWriteAndReadBackThroughTheRing() throws Exception {
        Path f = file(3000L * BLOCK);
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            assertThat(t.rpc("bdev_uring_create", Map.of("filename", f.toString(), "name", "U0", "block_size", BLOCK))
                    .asText()).isEqualTo("U0");
            List<CompletableFuture<IoLoop.Result>> runs = List.of(
                    new IoLoop(t.thread("w0", 0), "U0", 0, 1000, 32, true).start(t.layer()),
                    new IoLoop(t.thread("w1", 1), "U0", 1000, 1000, 32, true).start(t.layer()),
                    new IoLoop(t.thread("w2", 1), "U0", 2000, 1000, 8, true).start(t.layer()));
            for (CompletableFuture<IoLoop.Result> r : runs) {
                IoLoop.Result res = r.get(60, TimeUnit.SECONDS);
                assertThat(res.read()).isEqualTo(1000);
                assertThat(res.mismatches()).isZero();
                assertThat(res.failed()).isZero();
            }
            var described = t.rpc("bdev_get_bdevs", Map.of("name", "U0")).get(0);
            assertThat(described.get("write_cache").asBoolean()).isTrue();
            assertThat(described.get("driver_specific").get("uring").get("filename").asText()).isEqualTo(f.toString());
            assertThat(t.rpc("framework_get_config", Map.of("name", "bdev")).toString())
                    .contains("bdev_uring_create").contains(f.toString());
        }
        // what went through the ring is in the file
        byte[] onDisk = Files.readAllBytes(f);
        MemorySegment block5 = MemorySegment.ofArray(onDisk).asSlice(5L * BLOCK, BLOCK);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment copy = a.allocate(BLOCK);
            copy.copyFrom(block5);
            assertThat(IoLoop.matches(copy, 5)).isTrue();
        }
    }

    @Test
    void misalignedAndScatteredBuffersAndFlush() throws Exception {
        Path f = file(64L * BLOCK);
        try (BdevTestApp t = BdevTestApp.start(dir); Arena arena = Arena.ofShared()) {
            t.rpc("bdev_uring_create", Map.of("filename", f.toString(), "name", "U0", "block_size", BLOCK));
            MemorySegment misaligned = arena.allocate(2L * BLOCK + 1, 4096).asSlice(1, 2L * BLOCK);
            for (long i = 0; i < misaligned.byteSize(); i++) {
                misaligned.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 13));
            }
            MemorySegment[] pieces = {arena.allocate(BLOCK, 4096), arena.allocate(BLOCK, 4096)};
            MemorySegment[] readBack = {arena.allocate(BLOCK, 4096), arena.allocate(BLOCK, 4096)};
            MemorySegment misalignedRead = arena.allocate(2L * BLOCK + 3, 4096).asSlice(3, 2L * BLOCK);
            pieces[0].fill((byte) 7);
            pieces[1].fill((byte) 9);
            KeelThread w = t.thread("w", 0);
            List<Boolean> results = new java.util.concurrent.CopyOnWriteArrayList<>();
            CompletableFuture<Void> all = new CompletableFuture<>();
            BdevTestApp.on(w, () -> {
                BdevDesc d = t.layer().open("U0", true, (e, b) -> { });
                IoChannel<BdevChannel> ch = d.getIoChannel();
                BdevChannel c = ch.context();
                BdevIoCallback step4 = (io, ok, arg) -> {
                    results.add(ok);
                    io.free();
                    ch.put();
                    d.close();
                    all.complete(null);
                };
                BdevIoCallback step3 = (io, ok, arg) -> {
                    results.add(ok);
                    io.free();
                    d.readv(c, readBack, 2, 10, 2, (io2, ok2, a2) -> {
                        results.add(ok2);
                        io2.free();
                        d.read(c, misalignedRead, 0, 2, step4, null);
                    }, null);
                };
                BdevIoCallback step2 = (io, ok, arg) -> {
                    results.add(ok);
                    io.free();
                    d.flush(c, 0, 64, step3, null);
                };
                d.write(c, misaligned, 0, 2, (io, ok, arg) -> {
                    results.add(ok);
                    io.free();
                    d.writev(c, pieces, 2, 10, 2, step2, null);
                }, null);
                return null;
            });
            all.get(20, TimeUnit.SECONDS);
            assertThat(results).hasSize(5).containsOnly(true);
            assertThat(readBack[0].mismatch(pieces[0])).isEqualTo(-1);
            assertThat(readBack[1].mismatch(pieces[1])).isEqualTo(-1);
            assertThat(misalignedRead.mismatch(misaligned)).as("bounced both ways").isEqualTo(-1);
        }
    }

    @Test
    void badRequestsAreRefusedClearly() throws Exception {
        Path f = file(16L * BLOCK);
        try (BdevTestApp t = BdevTestApp.start(dir)) {
            assertThatThrownBy(() -> t.rpc("bdev_uring_create", Map.of("filename", dir.resolve("missing").toString(),
                    "name", "U0"))).hasMessageContaining("cannot open");
            assertThatThrownBy(() -> t.rpc("bdev_uring_create", Map.of("filename", f.toString(), "name", "U0",
                    "block_size", 1000))).satisfies(e -> assertThat(((BdevTestApp.RpcError) e).code).isEqualTo(-32602));
            assertThatThrownBy(() -> t.rpc("bdev_uring_create", Map.of("filename", f.toString())))
                    .hasMessageContaining("name");
            t.rpc("bdev_uring_create", Map.of("filename", f.toString(), "name", "U0"));
            assertThatThrownBy(() -> t.rpc("bdev_uring_create", Map.of("filename", f.toString(), "name", "U0")))
                    .satisfies(e -> assertThat(((BdevTestApp.RpcError) e).code).isEqualTo(-17));
            assertThat(t.rpc("bdev_uring_delete", Map.of("name", "U0")).asBoolean()).isTrue();
            assertThatThrownBy(() -> t.rpc("bdev_uring_delete", Map.of("name", "U0")))
                    .satisfies(e -> assertThat(((BdevTestApp.RpcError) e).code).isEqualTo(-19));
        }
    }
}
