package io.keel.nvmf.tcp;

import static io.keel.nvmf.tcp.TcpTargetTest.enable;
import static io.keel.nvmf.tcp.TcpTargetTest.ioQueue;
import static io.keel.nvmf.tcp.TcpTargetTest.pattern;
import static io.keel.nvmf.tcp.TcpTargetTest.serveMalloc0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.bdev.BdevTestApp;
import io.keel.core.thread.KeelThread;
import io.keel.nvme.spec.Status;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A poll group with one I/O queue on a poll-mode reactor reads that queue's socket every turn instead of waiting
 * for epoll to report it ({@link TcpPollGroup#ioQueueBound}): seen through {@code thread_get_pollers}, where the
 * group's {@code nvmf_tcp_read_lone_queue} poller counts a busy run for each read that brought the host's bytes.
 */
class TcpLoneQueueTest {
    static final String POLLER = "nvmf_tcp_read_lone_queue";
    static final int ROUND = 5_000;

    @TempDir
    Path dir;
    BdevTestApp t;
    int port;

    @AfterEach
    void stop() throws Exception {
        if (t != null) {
            t.close();
        }
    }

    @Test
    void aLoneIoQueueIsReadEveryTurnUntilASecondOneIsBoundAndAgainOnceThatOneCloses() throws Exception {
        pollModeTarget();
        try (SocketHost admin = new SocketHost(port)) {
            int cntlid = enable(admin, 0);
            try (SocketHost io1 = ioQueue(port, cntlid, 1, false)) {
                roundTrips(io1, 40, 0);
                assertThat(busyRuns()).as("commands read by the group's poller").isGreaterThanOrEqualTo(40);

                SocketHost io2 = ioQueue(port, cntlid, 2, false);
                await().atMost(Duration.ofSeconds(5)).until(() -> state().equals("paused"));
                long busy = busyRuns();
                roundTrips(io1, 20, 100);
                roundTrips(io2, 20, 200); // both through epoll now
                assertThat(busyRuns()).isEqualTo(busy);
                assertThat(state()).isEqualTo("paused");

                io2.close();
                await().atMost(Duration.ofSeconds(5)).until(() -> ioQueuesOpen() == 1);
                roundTrips(io1, 40, 300);
                assertThat(busyRuns() - busy).as("read every turn again").isGreaterThanOrEqualTo(20);
            }
        }
    }

    /** Quiet for a millisecond, the lone queue goes back to epoll, which tells of the next command. */
    @Test
    void aQuietLoneQueueIsLeftToEpollUntilTheHostSendsAgain() throws Exception {
        pollModeTarget();
        try (SocketHost admin = new SocketHost(port)) {
            int cntlid = enable(admin, 0);
            try (SocketHost io = ioQueue(port, cntlid, 1, false)) {
                roundTrips(io, 5, 0);
                await().atMost(Duration.ofSeconds(5)).until(() -> state().equals("paused"));
                long busy = busyRuns();
                // the first command is told by epoll, which puts the queue back on the poller for those after it
                await().atMost(Duration.ofSeconds(10)).pollInSameThread().until(() -> { // the host is this thread's
                    roundTrips(io, 3, 400);
                    return busyRuns() > busy;
                });
            }
        }
    }

    /**
     * Read every turn, a command costs the reactor no allocation: rounds of {@link #ROUND} reads at queue depth one,
     * warmed up until the JIT has compiled the path, then the best of three (one allocation per command would be at
     * least 16 bytes x ROUND in every round; a late JIT step shows in one).
     */
    @Test
    void aLoneQueueReadEveryTurnAllocatesNothingPerCommand() throws Exception {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Assumptions.assumeTrue(mx.isThreadAllocatedMemorySupported(), "no per-thread allocation counter");
        pollModeTarget();
        long[] reactors = Thread.getAllStackTraces().keySet().stream()
                .filter(th -> th instanceof KeelThread.Carrier).mapToLong(Thread::threadId).toArray();
        try (SocketHost admin = new SocketHost(port)) {
            int cntlid = enable(admin, 0);
            try (SocketHost io = ioQueue(port, cntlid, 1, false)) {
                byte[] into = new byte[512];
                long last = Long.MAX_VALUE;
                for (int round = 0; round < 20 && last > ROUND; round++) {
                    last = readRound(io, into, mx, reactors);
                }
                long best = Math.min(readRound(io, into, mx, reactors),
                        Math.min(readRound(io, into, mx, reactors), readRound(io, into, mx, reactors)));
                assertThat(best).as("bytes the reactor allocated over %d reads", ROUND).isLessThan(ROUND);
                assertThat(busyRuns()).as("read by the group's poller").isGreaterThan(ROUND);
            }
        }
    }

    private static long readRound(SocketHost io, byte[] into, com.sun.management.ThreadMXBean mx, long[] reactors)
            throws IOException {
        long before = LongStream.of(mx.getThreadAllocatedBytes(reactors)).sum();
        for (int i = 0; i < ROUND; i++) {
            assertThat(io.read(i & 0xFFFF, 1, i % 1024, 1, into).statusCode()).isEqualTo(Status.SUCCESS);
        }
        return LongStream.of(mx.getThreadAllocatedBytes(reactors)).sum() - before;
    }

    /** An interrupt-mode reactor sleeps until epoll wakes it: no queue is read every turn. */
    @Test
    void onInterruptModeReactorsEveryQueueIsReadThroughEpoll() throws Exception {
        t = BdevTestApp.start(dir);
        port = serveMalloc0(t);
        try (SocketHost admin = new SocketHost(port)) {
            int cntlid = enable(admin, 0);
            try (SocketHost io = ioQueue(port, cntlid, 1, false)) {
                roundTrips(io, 20, 0);
                assertThat(busyRuns()).isZero();
            }
        }
    }

    /** Malloc0 served over TCP by one poll-mode reactor. */
    private void pollModeTarget() throws IOException {
        t = BdevTestApp.startPollMode(dir);
        port = serveMalloc0(t);
    }

    /** {@code n} writes (data by R2T) each read back and checked, at blocks from {@code lba}. */
    private static void roundTrips(SocketHost io, int n, int lba) throws IOException {
        for (int i = 0; i < n; i++) {
            byte[] data = pattern(512, lba + i);
            assertThat(io.write(2 * i, 1, lba + i, 1, data, false).statusCode()).isEqualTo(Status.SUCCESS);
            byte[] back = new byte[512];
            assertThat(io.read(2 * i + 1, 1, lba + i, 1, back).statusCode()).isEqualTo(Status.SUCCESS);
            assertThat(back).isEqualTo(data);
        }
    }

    private JsonNode poller() {
        for (JsonNode thread : t.rpc("thread_get_pollers", null).get("threads")) {
            for (String list : new String[] {"active_pollers", "timed_pollers", "paused_pollers"}) {
                for (JsonNode p : thread.get(list)) {
                    if (p.get("name").asText().equals(POLLER)) {
                        return p;
                    }
                }
            }
        }
        throw new AssertionError("no " + POLLER + " poller");
    }

    private long busyRuns() {
        return poller().get("busy_count").asLong();
    }

    private String state() {
        return poller().get("state").asText();
    }

    private int ioQueuesOpen() {
        return t.rpc("nvmf_get_stats", null).findValues("current_io_qpairs").stream().mapToInt(JsonNode::asInt).sum();
    }
}
