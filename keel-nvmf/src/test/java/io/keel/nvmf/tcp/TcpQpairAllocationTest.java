package io.keel.nvmf.tcp;

import static io.keel.nvmf.tcp.TestHost.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import io.keel.nvme.spec.SglDescriptor;
import io.keel.nvme.tcp.PduType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** In steady state the connection allocates nothing per command (ThreadMXBean allocated bytes). */
class TcpQpairAllocationTest {
    private static final int ROUNDS = 20_000;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Discards what it is given, counting PDUs by type; allocation-free. */
    static final class CountingSink implements PduSink {
        final MemorySegment buf;
        final long[] byType = new long[16];

        CountingSink(Arena arena) {
            buf = arena.allocate(1 << 20, 8);
        }

        @Override
        public long claim(int length) {
            return 0;
        }

        @Override
        public MemorySegment buffer() {
            return buf;
        }

        @Override
        public void commit(long offset, int length) {
            byType[buf.get(ValueLayout.JAVA_BYTE, offset)]++;
        }
    }

    static final class OneBuffer implements BufferProvider {
        final MemorySegment buffer;
        boolean taken;

        OneBuffer(Arena arena) {
            buffer = arena.allocate(1 << 16, 64);
        }

        @Override
        public MemorySegment acquire(long length) {
            if (taken) {
                return null;
            }
            taken = true;
            return buffer;
        }

        @Override
        public void release(MemorySegment b) {
            taken = false;
        }
    }

    private static long probeCost() {
        long min = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long a = THREADS.getCurrentThreadAllocatedBytes();
            min = Math.min(min, THREADS.getCurrentThreadAllocatedBytes() - a);
        }
        return min;
    }

    @Test
    void steadyStateReadsAndWritesAllocateNothingPerCommand() {
        try (Arena arena = Arena.ofConfined()) {
            CountingSink sink = new CountingSink(arena);
            TestHost host = new TestHost(arena);
            TcpConnectionConfig config = TcpConnectionConfig.defaults().withQueueDepth(4).withMaxH2CData(4096)
                    .withMaxR2TLength(8192).withC2hSuccess(true).withMaxC2HData(4096);
            long[] executed = new long[1];
            TcpQpairConnection conn = new TcpQpairConnection(config, sink, r -> {
                executed[0]++;
                r.complete(0, 0);
            }, new OneBuffer(arena), (c, s, f, why) -> {
                throw new AssertionError("ended: " + why);
            }, RequestTable.take(new QueueMemory(1 << 20), config.queueDepth(), config.inCapsuleDataSize()));

            // connect with digests; the test host only encodes the host's PDUs here
            int ic = host.enc.icReq(host.tx, 0, 0, 0, true, true, 0);
            conn.onBytes(host.tx, 0, ic);
            host.enc.negotiated(true, true, 0);
            assertThat(conn.state()).isEqualTo(TcpQpairConnection.State.ESTABLISHED);
            assertThat(conn.dataDigest()).isTrue();

            // one round: a read (2 C2HData), an in-capsule write, and a write fetched by one R2T in two H2CData PDUs
            long p = host.read(0, 1, 8192);
            p += host.capsule(p, 0x01, 2, SglDescriptor.ID_IN_CAPSULE, 512, pattern(512, 2));
            p += host.capsule(p, 0x01, 3, SglDescriptor.ID_TRANSPORT, 8192, null);
            MemorySegment data = MemorySegment.ofArray(pattern(8192, 3));
            p += host.enc.h2cData(host.tx, p, 3, 0, 0, data, 0, 4096, false);
            p += host.enc.h2cData(host.tx, p, 3, 0, 4096, data, 4096, 4096, true);
            long length = p;

            for (int i = 0; i < ROUNDS; i++) { // warm-up
                conn.onBytes(host.tx, 0, length);
            }
            assertThat(executed[0]).isEqualTo(3L * ROUNDS);
            assertThat(sink.byType[PduType.C2H_DATA]).isEqualTo(2L * ROUNDS);
            assertThat(sink.byType[PduType.R2T]).isEqualTo(ROUNDS);
            assertThat(sink.byType[PduType.CAPSULE_RESP]).isEqualTo(2L * ROUNDS);

            long before = THREADS.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < ROUNDS; i++) {
                conn.onBytes(host.tx, 0, length);
            }
            long allocated = THREADS.getCurrentThreadAllocatedBytes() - before - probeCost();
            assertThat(executed[0]).isEqualTo(6L * ROUNDS);
            assertThat(conn.requestsInUse()).isZero();
            // a handful of bytes of noise is tolerated; one allocation per command would be >= 3 * ROUNDS * 16
            assertThat(allocated).as("bytes allocated for %d commands", 3 * ROUNDS).isLessThan(1024);
        }
    }
}
