package io.keel.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.nvme.host.HostOptions;
import io.keel.nvme.host.Namespace;
import io.keel.nvme.host.TcpController;
import io.keel.nvme.host.TcpQpair;
import io.keel.nvme.host.TransportId;
import io.keel.nvme.spec.Opcode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Keel's NVMe-oF host against the Linux kernel's own NVMe/TCP target ({@link LinuxNvmetGuest}): connect,
 * identify, write and read back through one I/O queue, then a namespace added and removed while connected.
 * The guest's log stays in keel-app/target/linux-nvmet-guest/.
 */
class LinuxNvmetGuestIT {
    private static final int SIZE_MB = 64;
    private static final int SMALL = 4 << 10;
    private static final int LARGE = 128 << 10;

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void keelsHostWritesReadsAndSeesANamespaceComeAndGo() throws Exception {
        Path out = KeelProcess.ROOT.resolve("keel-app/target/linux-nvmet-guest");
        // 30 s keep-alive and 30 s per command: the guest runs under TCG emulation, on a shared machine
        HostOptions host = HostOptions.defaults().withKeepAliveMs(30_000).withTimeout(Duration.ofSeconds(30));
        try (LinuxNvmetGuest nvmet = LinuxNvmetGuest.start(out, SIZE_MB, Duration.ofMinutes(3));
                TcpController ctrl = TcpController.connect(TransportId.parse(nvmet.trid()), host);
                Arena arena = Arena.ofConfined()) {
            System.out.printf("nvmet: cntlid %d, MQES+1 %d, max transfer %d B (0: no limit), in-capsule %d B%n",
                    ctrl.cntlid(), ctrl.maxQueueEntries(), ctrl.maxTransferBytes(), ctrl.ioInCapsuleBytes());
            assertThat(ctrl.ioInCapsuleBytes()).as("so that the small write goes in the capsule, the large via R2T")
                    .isBetween(SMALL, LARGE - 1);
            assertThat(ctrl.maxTransferBytes()).as("MDTS allows the large transfer").satisfiesAnyOf(
                    m -> assertThat(m).isZero(), m -> assertThat(m).isGreaterThanOrEqualTo(LARGE));

            Namespace ns1 = ctrl.identifyNamespace(1);
            assertThat(ns1.sizeBytes()).as("namespace 1 of %s", nvmet.trid()).isEqualTo(nvmet.sizeBytes());
            assertThat(ctrl.setNumberOfQueues(1)).isPositive();
            try (TcpQpair q = ctrl.connectIoQueue(1, 4, 256 << 10)) {
                MemorySegment small = pattern(arena, SMALL, 1);
                MemorySegment large = pattern(arena, LARGE, 2);
                long smallLba = 8;
                long largeLba = ns1.blocks() / 2;
                io(q, Opcode.WRITE, ns1, smallLba, small);
                io(q, Opcode.WRITE, ns1, largeLba, large);
                assertThat(readBack(q, arena, ns1, smallLba, SMALL).mismatch(small)).as("4 KiB read back")
                        .isEqualTo(-1);
                assertThat(readBack(q, arena, ns1, largeLba, LARGE).mismatch(large)).as("128 KiB read back")
                        .isEqualTo(-1);
            }
            ctrl.keepAlive();

            nvmet.addNamespace(2);
            assertThat(ctrl.identifyNamespace(2).sizeBytes()).as("namespace 2, added while connected")
                    .isEqualTo(nvmet.sizeBytes());
            nvmet.removeNamespace(2);
            assertThatThrownBy(() -> ctrl.identifyNamespace(2)).as("namespace 2 after its removal")
                    .isInstanceOf(IOException.class).hasMessageContaining("not active");
            assertThat(ctrl.identifyNamespace(1)).isEqualTo(ns1);
        }
    }

    private static MemorySegment pattern(Arena arena, int len, long seed) {
        MemorySegment m = arena.allocate(len, 4096);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < len; i += 8) {
            m.set(ValueLayout.JAVA_LONG_UNALIGNED, i, r.nextLong());
        }
        return m;
    }

    private static MemorySegment readBack(TcpQpair q, Arena arena, Namespace ns, long slba, int len)
            throws IOException {
        MemorySegment m = arena.allocate(len, 4096);
        io(q, Opcode.READ, ns, slba, m);
        return m;
    }

    /** One synchronous NVM Read or Write of the whole buffer at {@code slba}. */
    private static void io(TcpQpair q, int opcode, Namespace ns, long slba, MemorySegment buf) throws IOException {
        int len = (int) buf.byteSize();
        q.command().opcode(opcode).nsid(ns.nsid()).rw().slba(slba).blockCount(len / ns.blockSize());
        int st = q.execute(0, opcode == Opcode.WRITE, buf, 0, len, System.nanoTime() + 30_000_000_000L);
        assertThat(st).as("%s of %d B at LBA %d: %s", opcode == Opcode.WRITE ? "write" : "read", len, slba,
                TcpController.describe(st)).isZero();
    }
}
