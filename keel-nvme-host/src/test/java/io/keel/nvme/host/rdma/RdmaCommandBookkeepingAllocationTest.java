package io.keel.nvme.host.rdma;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.ThreadMXBean;
import io.keel.nvme.spec.Sqe;
import io.keel.rdma.RdmaAbi;
import io.keel.rdma.RecvWorkRequests;
import io.keel.rdma.SendWorkRequests;
import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * What RdmaHostQpair does per command on the Java side, without a device: the registration map looked up, a bounce
 * run taken and given back, the keyed SGL written, the SEND's work request filled and chained, a RECV's refilled.
 * None of it may allocate once warm (the verbs calls themselves: RdmaLoopbackCheck measures them on a device). The
 * best of several measured rounds counts, as a JIT deoptimization can land in any one.
 */
class RdmaCommandBookkeepingAllocationTest {
    @Test
    void aCommandsBookkeepingAllocatesNothing() {
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Arena arena = Arena.ofConfined();
                SendWorkRequests sends = new SendWorkRequests(128, 1);
                RecvWorkRequests recvs = new RecvWorkRequests(128, 1)) {
            PageRuns runs = new PageRuns(4 << 20);
            RegistrationMap map = RegistrationMap.EMPTY.with(0x10_0000, 4 << 20, 5, 6, "iobuf")
                    .with(0x100_0000, 1 << 20, 7, 8, "bdevperf");
            Sqe sqe = new Sqe().wrap(arena.allocate(Sqe.SIZE), 0);
            long best = Long.MAX_VALUE;
            for (int round = 0; round < 6; round++) {
                long before = mx.getCurrentThreadAllocatedBytes();
                int tail = 0;
                for (int i = 0; i < 50_000; i++) {
                    int cid = i & 127;
                    long off = runs.allocate(4096 + (i & 3) * 4096);
                    RegistrationMap.Entry registered = map.find(0x10_0000 + off, 4096);
                    RdmaSgl.keyed(sqe, 0x10_0000 + off, 4096, registered.rkey());
                    sends.sge(cid, 0, 0x2000L + cid * 64L, 64, 7);
                    sends.sgeCount(cid, 1);
                    sends.operation(cid, RdmaAbi.IBV_WR_SEND, RdmaAbi.IBV_SEND_SIGNALED);
                    sends.id(cid, (long) 3 << 48 | cid);
                    sends.link(tail, cid);
                    sends.end(cid);
                    tail = cid;
                    recvs.sge(cid, 0, 0x8000L + cid * 16L, 16, 7);
                    recvs.sgeCount(cid, 1);
                    recvs.id(cid, (long) 3 << 48 | 1L << 31 | cid);
                    recvs.end(cid);
                    runs.free(off, 4096 + (i & 3) * 4096);
                }
                if (round >= 2) {
                    best = Math.min(best, mx.getCurrentThreadAllocatedBytes() - before);
                }
            }
            assertThat(best).as("bytes allocated by 50,000 commands' bookkeeping").isZero();
        }
    }
}
