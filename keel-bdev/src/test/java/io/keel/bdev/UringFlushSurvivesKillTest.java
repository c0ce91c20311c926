package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writes through a uring bdev, flushes, kills the process with SIGKILL while it goes on writing, restarts on the
 * same file and reads every flushed block back intact. (A killed process, not a power cut: what a flush
 * promises beyond the process lifetime is the kernel's fdatasync, which this cannot simulate.)
 */
class UringFlushSurvivesKillTest {
    private static final int BLOCKS = 256;

    @TempDir
    Path dir;

    @Test
    void everyFlushedBlockIsIntactAfterKillNine() throws Exception {
        Path disk = dir.resolve("disk.img");
        try (var ch = java.nio.channels.FileChannel.open(disk, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {0}), 2L * BLOCKS * 4096 - 1);
        }
        Path config = dir.resolve("config.json");
        Files.writeString(config, """
                {"subsystems": [{"subsystem": "bdev", "config": [
                  {"method": "bdev_uring_create", "params": {"name": "U0", "filename": "%s", "block_size": 4096}}]}]}
                """.formatted(disk));
        Path sock = dir.resolve("writer.sock");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process writer = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), UringFlushWriter.class.getName(),
                config.toString(), Integer.toString(BLOCKS), sock.toString()))
                .redirectErrorStream(true).redirectOutput(dir.resolve("writer.log").toFile()).start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(Path.of(sock + ".flushed")) || !writer.isAlive());
            assertThat(writer.isAlive()).as("writer log:\n%s", Files.readString(dir.resolve("writer.log"))).isTrue();
            Thread.sleep(100); // let the unflushed scribbling run a little
        } finally {
            writer.destroyForcibly(); // SIGKILL
            assertThat(writer.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(writer.exitValue()).isEqualTo(137);

        Path dir2 = Files.createDirectories(dir.resolve("again"));
        try (BdevTestApp t = BdevTestApp.start(dir2)) {
            t.rpc("bdev_uring_create", Map.of("name", "U0", "filename", disk.toString(), "block_size", 4096));
            IoLoop.Result res = new IoLoop(t.thread("reader", 0), "U0", 0, BLOCKS, 16, true).readOnly().start(t.layer())
                    .get(30, TimeUnit.SECONDS);
            assertThat(res.read()).isEqualTo(BLOCKS);
            assertThat(res.mismatches()).as("flushed blocks intact").isZero();
        }
    }
}
