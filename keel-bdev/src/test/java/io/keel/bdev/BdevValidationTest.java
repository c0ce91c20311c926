package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.core.rpc.Errno;
import io.keel.core.thread.IoChannel;
import io.keel.core.thread.KeelThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad requests are refused at submission with the errno SPDK gives, and touch nothing. */
class BdevValidationTest {
    @TempDir
    Path dir;

    private static final BdevIoCallback NEVER = (io, ok, arg) -> {
        throw new AssertionError("a refused request must not complete");
    };

    @Test
    void refusals() throws Exception {
        try (BdevTestApp t = BdevTestApp.start(dir); Arena arena = Arena.ofShared()) {
            t.rpc("bdev_malloc_create", Map.of("name", "M0", "block_size", 512, "num_blocks", 100));
            t.rpc("bdev_null_create", Map.of("name", "N0", "block_size", 512, "num_blocks", 100));
            MemorySegment block = arena.allocate(512, 4096);
            MemorySegment odd = arena.allocate(700, 4096);
            KeelThread w = t.thread("w", 0);
            BdevTestApp.on(w, () -> {
                BdevDesc ro = t.layer().open("M0", false, (e, b) -> { });
                BdevDesc rw = t.layer().open("M0", true, (e, b) -> { });
                IoChannel<BdevChannel> ch = rw.getIoChannel();
                BdevChannel c = ch.context();
                assertThat(rw.read(c, block, 100, 1, NEVER, null)).as("past the end").isEqualTo(-Errno.EINVAL);
                assertThat(rw.read(c, block, 99, 2, NEVER, null)).as("runs past the end").isEqualTo(-Errno.EINVAL);
                assertThat(rw.read(c, block, -1, 1, NEVER, null)).isEqualTo(-Errno.EINVAL);
                assertThat(rw.read(c, block, Long.MAX_VALUE, 1, NEVER, null)).as("overflow").isEqualTo(-Errno.EINVAL);
                assertThat(rw.read(c, block, 0, 0, NEVER, null)).as("no blocks").isEqualTo(-Errno.EINVAL);
                assertThat(rw.read(c, odd, 0, 1, NEVER, null)).as("buffer length").isEqualTo(-Errno.EINVAL);
                assertThat(rw.write(c, block, 0, 2, NEVER, null)).as("buffer too short").isEqualTo(-Errno.EINVAL);
                assertThat(ro.write(c, block, 0, 1, NEVER, null)).as("read-only descriptor").isEqualTo(-Errno.EBADF);
                assertThat(ro.unmap(c, 0, 1, NEVER, null)).isEqualTo(-Errno.EBADF);
                ro.close();
                assertThat(ro.read(c, block, 0, 1, NEVER, null)).as("closed descriptor").isEqualTo(-Errno.EBADF);

                BdevDesc nul = t.layer().open("N0", true, (e, b) -> { });
                IoChannel<BdevChannel> nch = nul.getIoChannel();
                assertThat(nul.unmap(nch.context(), 0, 1, NEVER, null)).as("null has no unmap").isEqualTo(-Errno.ENOTSUP);
                assertThat(nul.compare(nch.context(), block, 0, 1, NEVER, null)).isEqualTo(-Errno.ENOTSUP);
                nch.put();
                nul.close();
                ch.put();
                rw.close();
                return null;
            });
            assertThatThrownBy(() -> BdevTestApp.on(w, () -> t.layer().open("nope", false, (e, b) -> { })))
                    .hasRootCauseInstanceOf(BdevException.class).hasMessageContaining("does not exist");
        }
    }
}
