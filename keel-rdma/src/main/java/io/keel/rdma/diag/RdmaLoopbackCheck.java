package io.keel.rdma.diag;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import com.sun.management.ThreadMXBean;
import io.keel.rdma.AsyncEvent;
import io.keel.rdma.AsyncEventType;
import io.keel.rdma.AsyncEvents;
import io.keel.rdma.CmEvent;
import io.keel.rdma.CmEventChannel;
import io.keel.rdma.CmEventType;
import io.keel.rdma.CmId;
import io.keel.rdma.CompletionChannel;
import io.keel.rdma.CompletionQueue;
import io.keel.rdma.ConnectionParameters;
import io.keel.rdma.MemoryRegion;
import io.keel.rdma.ProtectionDomain;
import io.keel.rdma.QueuePair;
import io.keel.rdma.QueuePairCapabilities;
import io.keel.rdma.Rdma;
import io.keel.rdma.RdmaAbi;
import io.keel.rdma.RecvWorkRequests;
import io.keel.rdma.SendWorkRequests;
import io.keel.rdma.SharedReceiveQueue;
import io.keel.rdma.VerbsContext;
import io.keel.rdma.WorkCompletions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A diagnostic that exercises keel-rdma end to end on a real device, in one process and one thread: a passive side
 * listens and an active side connects to it through the RDMA CM on {@code ADDRESS:PORT} (each on its own event
 * channel), reading the device's limits, exchanging private data both ways (the accept carries the passive side's
 * buffer address and rkey) and the connect's RDMA READ resources (seen from the passive side, swapped); then
 * SENDs into posted RECVs both ways (one direction waiting for the completion channel's event), a chain of three
 * SENDs posted with one call, an RDMA WRITE and an RDMA READ against the peer's registered buffer, each checked by data
 * and by completion; no heap allocation in thousands of SEND/RECV rounds (the data path's requirement); a
 * second connection rejected with private data; a disconnect that each side sees exactly once, the RECVs left over
 * flushing; a third connection whose passive side receives from a shared receive queue; and every resource freed.
 * Prints {@value #MARKER} at the end on success, exits 1 saying what failed, 2 when RDMA is not usable here.
 *
 * <p>Usage: {@code java --enable-native-access=ALL-UNNAMED -cp keel-rdma/target/classes:keel-core/target/classes
 * io.keel.rdma.diag.RdmaLoopbackCheck 10.0.2.15 [port]}
 */
public final class RdmaLoopbackCheck {
    static final String MARKER = "RDMA-LOOPBACK-OK";
    private static final int TIMEOUT_MS = 30_000;
    private static final int BUFFER = 8192;
    private static final int MESSAGE = 256;
    private static final int RECVS = 4;

    private final Deque<AutoCloseable> toClose = new ArrayDeque<>();
    private final Arena arena = Arena.ofShared();
    private final CmEvent event = new CmEvent();
    private final long t0 = System.nanoTime();

    private RdmaLoopbackCheck() {
    }

    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: RdmaLoopbackCheck ADDRESS [PORT]");
            System.exit(64);
        }
        Rdma.Availability availability = Rdma.availability();
        System.out.println("rdma-loopback: " + availability.reason());
        if (!availability.usable()) {
            System.exit(2);
        }
        RdmaLoopbackCheck check = new RdmaLoopbackCheck();
        int rc = 0;
        try {
            InetAddress ip = InetAddress.getByName(args[0]);
            check.run(new InetSocketAddress(ip, args.length > 1 ? Integer.parseInt(args[1]) : 7471));
        } catch (Exception | AssertionError e) {
            System.out.println("RDMA-LOOPBACK-FAILED: " + e);
            e.printStackTrace(System.out);
            rc = 1;
        } finally {
            rc |= check.closeAll();
        }
        if (rc == 0) {
            System.out.printf("%s in %.1f s%n", MARKER, (System.nanoTime() - check.t0) / 1e9);
        }
        System.exit(rc);
    }

    /** One side's verbs objects. */
    private record Side(String name, CmId id, ProtectionDomain pd, CompletionChannel channel, CompletionQueue cq,
            MemoryRegion region, QueuePair qp, SendWorkRequests sends, RecvWorkRequests recvs, WorkCompletions wcs) {
        MemorySegment memory() {
            return region.memory();
        }
    }

    private void run(InetSocketAddress address) {
        CmEventChannel passiveEvents = own(CmEventChannel.create());
        CmEventChannel activeEvents = own(CmEventChannel.create());
        CmId listener = own(CmId.create(passiveEvents));
        ok(listener.bind(address), "rdma_bind_addr " + address);
        ok(listener.listen(8), "rdma_listen");
        step("listening on " + listener.localAddress() + " (" + listener.verbsContext().deviceName() + ")");

        CmId active = own(CmId.create(activeEvents));
        ok(active.resolveAddress(null, address, 5000), "rdma_resolve_addr");
        expect(activeEvents, CmEventType.ADDR_RESOLVED, active.address());
        ok(active.resolveRoute(5000), "rdma_resolve_route");
        expect(activeEvents, CmEventType.ROUTE_RESOLVED, active.address());
        Side host = side("active", active, 0);
        postReceives(host);

        ConnectionParameters hello = own(new ConnectionParameters());
        int helloLength = text(hello.privateData(), "KEEL-RDMA-CONNECT");
        hello.privateDataLength(helloLength).responderResources(4).initiatorDepth(2);
        ok(active.connect(hello), "rdma_connect");

        expect(passiveEvents, CmEventType.CONNECT_REQUEST, -1);
        check(event.listenId() == listener.address(), "the request names its listener: " + event);
        check(event.privateDataLength() >= helloLength && "KEEL-RDMA-CONNECT".equals(
                text(event.privateData(), helloLength)), "the connect's private data arrives: " + event);
        // the peer's READ resources, reported from this side: what it lets us read, and wants to read from us
        check(event.initiatorDepth() == 4 && event.responderResources() == 2,
                "the connect's RDMA READ resources arrive as seen from the passive side: " + event);
        CmId accepted = own(CmId.adopt(event.id()));
        step("connect request from " + accepted.peerAddress() + " with " + event.privateDataLength()
                + " bytes of private data, initiator depth " + event.initiatorDepth() + ", responder resources "
                + event.responderResources());
        Side target = side("passive", accepted, RdmaAbi.IBV_ACCESS_REMOTE_READ | RdmaAbi.IBV_ACCESS_REMOTE_WRITE);
        postReceives(target);
        ConnectionParameters welcome = own(new ConnectionParameters());
        int welcomeLength = text(welcome.privateData(), "KEEL-RDMA-ACCEPT");
        welcome.privateData().set(JAVA_LONG, 24, target.region().address());
        welcome.privateData().set(JAVA_INT, 32, target.region().rkey());
        welcome.privateDataLength(36).responderResources(4).initiatorDepth(4);
        ok(accepted.accept(welcome), "rdma_accept");

        // the active side first: librdmacm answers the accept (moves the queue pair to RTS and sends the RTU that
        // establishes the passive side) inside rdma_get_cm_event on the active side's channel
        expect(activeEvents, CmEventType.ESTABLISHED, active.address());
        check(event.privateDataLength() >= 36 && "KEEL-RDMA-ACCEPT".equals(text(event.privateData(), welcomeLength)),
                "the accept's private data arrives: " + event);
        long remoteAddress = event.privateData().get(JAVA_LONG, 24);
        int rkey = event.privateData().get(JAVA_INT, 32);
        expect(passiveEvents, CmEventType.ESTABLISHED, accepted.address());
        check(remoteAddress == target.region().address() && rkey == target.region().rkey(),
                "the peer's buffer and rkey come through the private data");
        step("established: qp " + host.qp().number() + " <-> qp " + target.qp().number());

        // SEND active -> passive, seen by polling
        send(host, 0, "ping from the active side");
        expectCompletion(host, RdmaAbi.IBV_WC_SEND, 0);
        int len = expectCompletion(target, RdmaAbi.IBV_WC_RECV, RECV_ID + 0);
        check("ping from the active side".equals(text(target.memory().asSlice(BUFFER), len)), "the SEND's data");
        step("SEND -> RECV, " + len + " bytes");

        // SEND passive -> active, seen through the completion channel's event
        ok(host.cq().requestNotify(false), "ibv_req_notify_cq");
        send(target, 0, "pong from the passive side");
        expectCompletion(target, RdmaAbi.IBV_WC_SEND, 0);
        long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000L;
        long cqEvent;
        while ((cqEvent = host.channel().nextEvent()) == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        check(cqEvent == host.cq().address(), "the completion channel names the armed queue: " + cqEvent);
        len = expectCompletion(host, RdmaAbi.IBV_WC_RECV, RECV_ID + 0);
        check("pong from the passive side".equals(text(host.memory().asSlice(BUFFER), len)), "the reply's data");
        step("SEND -> RECV back, woken by the completion channel");

        // three SENDs chained, posted with one call, into three RECVs
        for (int i = 0; i < 3; i++) {
            int n = text(host.memory().asSlice(i * MESSAGE), "batched " + i);
            host.sends().operation(i, RdmaAbi.IBV_WR_SEND, RdmaAbi.IBV_SEND_SIGNALED);
            host.sends().single(i, host.region(), host.region().address() + i * MESSAGE, n);
            host.sends().id(i, 100 + i);
        }
        host.sends().chain(0, 3);
        ok(host.qp().postSend(host.sends(), 0), "ibv_post_send of a chain of 3");
        for (int i = 0; i < 3; i++) {
            expectCompletion(host, RdmaAbi.IBV_WC_SEND, 100 + i);
            len = expectCompletion(target, RdmaAbi.IBV_WC_RECV, RECV_ID + 1 + i);
            MemorySegment recvBuffer = target.memory().asSlice(BUFFER + (long) (1 + i) * MESSAGE);
            check(("batched " + i).equals(text(recvBuffer, len)), "batched SEND " + i + " in order");
        }
        step("3 chained SENDs in one post, completed in order");

        // RDMA WRITE into the passive side's buffer
        MemorySegment local = host.memory();
        for (int i = 0; i < 4096; i++) {
            local.set(JAVA_BYTE, i, (byte) (i * 7 + 3));
        }
        rdma(host, RdmaAbi.IBV_WR_RDMA_WRITE, local.address(), remoteAddress, rkey, 4096, 200);
        expectCompletion(host, RdmaAbi.IBV_WC_RDMA_WRITE, 200);
        check(target.memory().asSlice(0, 4096).mismatch(local.asSlice(0, 4096)) == -1,
                "the RDMA WRITE's data is in the peer's buffer");
        step("RDMA WRITE 4096 bytes, data checked");

        // RDMA READ of the passive side's second page
        MemorySegment remotePage = target.memory().asSlice(4096, 4096);
        for (int i = 0; i < 4096; i++) {
            remotePage.set(JAVA_BYTE, i, (byte) (i * 13 + 5));
        }
        local.asSlice(4096, 4096).fill((byte) 0);
        rdma(host, RdmaAbi.IBV_WR_RDMA_READ, local.address() + 4096, remoteAddress + 4096, rkey, 4096, 201);
        len = expectCompletion(host, RdmaAbi.IBV_WC_RDMA_READ, 201);
        check(local.asSlice(4096, 4096).mismatch(remotePage) == -1, "the RDMA READ brought the peer's data");
        step("RDMA READ " + len + " bytes, data checked");

        // the data path allocates nothing: a SEND into a reposted RECV, both completions polled, round after round
        pingPong(host, target, 2000, false);
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        long start = System.nanoTime();
        int rounds = 2000;
        pingPong(host, target, rounds, false);
        long elapsed = System.nanoTime() - start;
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        check(allocated == 0, "the data path allocated " + allocated + " bytes in " + rounds + " rounds");
        step(String.format("data path: %d SEND/RECV rounds (2 posts, 2 polls each) in %.2f s, 0 bytes allocated",
                rounds, elapsed / 1e9));
        // and in interrupt mode: the receiving side armed, woken by its completion channel's event each round
        pingPong(host, target, 500, true);
        before = threads.getCurrentThreadAllocatedBytes();
        pingPong(host, target, rounds, true);
        allocated = threads.getCurrentThreadAllocatedBytes() - before;
        check(allocated == 0, "the data path with completion channel events allocated " + allocated + " bytes in "
                + rounds + " rounds");
        step(String.format("data path with an armed queue: %d rounds, each woken by a completion channel event, "
                + "0 bytes allocated", rounds));

        // a second connection, refused with private data
        CmId refused = own(CmId.create(activeEvents));
        ok(refused.resolveAddress(null, address, 5000), "rdma_resolve_addr (second)");
        expect(activeEvents, CmEventType.ADDR_RESOLVED, refused.address());
        ok(refused.resolveRoute(5000), "rdma_resolve_route (second)");
        expect(activeEvents, CmEventType.ROUTE_RESOLVED, refused.address());
        ok(refused.connect(hello), "rdma_connect (second)");
        expect(passiveEvents, CmEventType.CONNECT_REQUEST, -1);
        try (CmId request = CmId.adopt(event.id()); ConnectionParameters no = new ConnectionParameters()) {
            int n = text(no.privateData(), "KEEL-RDMA-REJECT");
            ok(request.reject(no.privateData(), n), "rdma_reject");
        }
        next(activeEvents, CmEventType.REJECTED, refused.address());
        check("KEEL-RDMA-REJECT".equals(text(event.privateData(), 16)), "the reject's private data arrives: " + event);
        step("second connection rejected with private data (IB CM reason " + event.status() + ")");

        // disconnect: each side sees DISCONNECTED once; the RECVs still posted flush
        ok(active.disconnect(), "rdma_disconnect");
        // the passive side answers the peer's disconnect with its own (the CM's DREP), as a target does; until then
        // the active side's DISCONNECTED waits for the DREQ to time out
        expect(passiveEvents, CmEventType.DISCONNECTED, accepted.address());
        ok(accepted.disconnect(), "rdma_disconnect on the passive side");
        expect(activeEvents, CmEventType.DISCONNECTED, active.address());
        drainFlushed(host, RECVS - 1);
        drainFlushed(target, 0);
        noSecondDisconnect(activeEvents, active.address());
        noSecondDisconnect(passiveEvents, accepted.address());
        step("DISCONNECTED once on each side; the active side's " + (RECVS - 1) + " unused RECVs flushed");

        sharedReceiveQueue(address, passiveEvents, activeEvents, hello);
    }

    /**
     * A third connection whose passive queue pair takes its receives from a shared receive queue, posted before the
     * queue pair exists: a SEND lands in one of them, and its completion names the queue pair by number.
     */
    private void sharedReceiveQueue(InetSocketAddress address, CmEventChannel passiveEvents,
            CmEventChannel activeEvents, ConnectionParameters hello) {
        CmId active = own(CmId.create(activeEvents));
        ok(active.resolveAddress(null, address, 5000), "rdma_resolve_addr (third)");
        nextSkippingTimewait(activeEvents, CmEventType.ADDR_RESOLVED, active.address());
        ok(active.resolveRoute(5000), "rdma_resolve_route (third)");
        nextSkippingTimewait(activeEvents, CmEventType.ROUTE_RESOLVED, active.address());
        Side host = side("active (third)", active, 0);
        ok(active.connect(hello), "rdma_connect (third)");
        nextSkippingTimewait(passiveEvents, CmEventType.CONNECT_REQUEST, -1);
        CmId accepted = own(CmId.adopt(event.id()));

        VerbsContext verbs = accepted.verbsContext();
        ProtectionDomain pd = own(verbs.allocateProtectionDomain());
        CompletionQueue cq = own(verbs.createCompletionQueue(16, null));
        SharedReceiveQueue srq = own(pd.createSharedReceiveQueue(RECVS, 1));
        MemorySegment memory = arena.allocate((long) RECVS * MESSAGE, 4096);
        MemoryRegion region = own(pd.register(memory, RdmaAbi.IBV_ACCESS_LOCAL_WRITE));
        RecvWorkRequests recvs = own(new RecvWorkRequests(RECVS, 1));
        for (int i = 0; i < RECVS; i++) {
            recvs.single(i, region, region.address() + (long) i * MESSAGE, MESSAGE);
            recvs.id(i, SRQ_RECV_ID + i);
        }
        recvs.chain(0, RECVS);
        ok(srq.postReceive(recvs, 0), "ibv_post_srq_recv of " + RECVS);
        QueuePair qp = own(accepted.createQueuePair(pd, cq, cq, srq, new QueuePairCapabilities(4, 0, 1, 0, 0),
                SRQ_QP_CONTEXT));
        step("shared receive queue of " + srq.capacity() + " (" + RECVS + " posted before its queue pair " + qp.number()
                + " existed)");
        ConnectionParameters plain = own(new ConnectionParameters());
        ok(accepted.accept(plain), "rdma_accept (third)");
        nextSkippingTimewait(activeEvents, CmEventType.ESTABLISHED, active.address());
        nextSkippingTimewait(passiveEvents, CmEventType.ESTABLISHED, accepted.address());

        send(host, 0, "into the shared receive queue");
        expectCompletion(host, RdmaAbi.IBV_WC_SEND, 0);
        long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000L;
        int n;
        while ((n = cq.poll(host.wcs(), 1)) == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        WorkCompletions wc = host.wcs();
        check(n == 1 && wc.status(0) == RdmaAbi.IBV_WC_SUCCESS && wc.opcode(0) == RdmaAbi.IBV_WC_RECV,
                "a RECV from the shared receive queue (poll " + n + ", status " + wc.status(0) + ")");
        check(wc.queuePairNumber(0) == qp.number(), "the shared receive's completion names queue pair "
                + qp.number() + ": " + wc.queuePairNumber(0));
        int slot = (int) (wc.id(0) - SRQ_RECV_ID);
        check(slot >= 0 && slot < RECVS && "into the shared receive queue".equals(
                text(memory.asSlice((long) slot * MESSAGE), wc.byteLength(0))), "the SEND's data in receive " + slot);
        step("SEND -> shared receive queue receive " + slot + ", completion for queue pair " + wc.queuePairNumber(0));

        // the queue pair in error (rdma_disconnect moves it there): the device says when it takes no more receives
        AsyncEvents events = own(verbs.asyncEvents());
        ok(accepted.disconnect(), "rdma_disconnect (third)");
        AsyncEvent e = new AsyncEvent();
        deadline = System.nanoTime() + LAST_WQE_WAIT_MS * 1_000_000L;
        boolean reached = false;
        while (!reached && System.nanoTime() < deadline) {
            int rc = events.next(e);
            check(rc >= 0, "ibv_get_async_event: " + rc);
            if (rc == 0) {
                sleepBriefly();
                continue;
            }
            step("async event " + e + ", qp_context 0x" + Long.toHexString(e.queuePairContext()));
            reached = e.type() == AsyncEventType.QP_LAST_WQE_REACHED && e.queuePairNumber() == qp.number();
            check(!reached || e.queuePairContext() == SRQ_QP_CONTEXT, "the event names the queue pair by its context");
        }
        step(reached ? "IBV_EVENT_QP_LAST_WQE_REACHED for queue pair " + qp.number() + " after rdma_disconnect"
                : "no IBV_EVENT_QP_LAST_WQE_REACHED within " + LAST_WQE_WAIT_MS + " ms of rdma_disconnect on "
                        + verbs.deviceName());
    }

    private static final long SRQ_RECV_ID = 2000;
    private static final long SRQ_QP_CONTEXT = 0x5151_0000_0001L;
    private static final int LAST_WQE_WAIT_MS = 3000;

    /** As {@link #expect}, passing over the TIMEWAIT_EXIT events an earlier connection may still send. */
    private void nextSkippingTimewait(CmEventChannel channel, CmEventType type, long id) {
        read(channel, type);
        while (event.type() == CmEventType.TIMEWAIT_EXIT) {
            step("then: " + event);
            read(channel, type);
        }
        check(event.type() == type && (id == -1 || event.id() == id) && event.status() == 0,
                "expected " + type + " for 0x" + Long.toHexString(id) + " with status 0, got " + event);
    }

    private static final long RECV_ID = 1000;

    private Side side(String name, CmId id, int remoteAccess) {
        VerbsContext verbs = id.verbsContext();
        check(verbs != null, name + " cm id has a device");
        ProtectionDomain pd = own(verbs.allocateProtectionDomain());
        CompletionChannel channel = own(verbs.createCompletionChannel());
        CompletionQueue cq = own(verbs.createCompletionQueue(64, channel));
        MemorySegment memory = arena.allocate(2L * BUFFER, 4096);
        MemoryRegion region = own(pd.register(memory, RdmaAbi.IBV_ACCESS_LOCAL_WRITE | remoteAccess));
        QueuePair qp = id.createQueuePair(pd, cq, cq, new QueuePairCapabilities(16, 16, 1, 1, 0));
        own(qp);
        SendWorkRequests sends = own(new SendWorkRequests(8, 1));
        RecvWorkRequests recvs = own(new RecvWorkRequests(RECVS, 1));
        WorkCompletions wcs = own(new WorkCompletions(4));
        step(name + " side: " + verbs.deviceName() + " (" + verbs.queryDevice() + "), cq of " + cq.capacity()
                + ", qp " + qp.capabilities()
                + ", lkey 0x" + Integer.toHexString(region.lkey()) + " rkey 0x" + Integer.toHexString(region.rkey()));
        return new Side(name, id, pd, channel, cq, region, qp, sends, recvs, wcs);
    }

    /** RECV_ID+i into message slot i of the buffer's second half, all posted as one chain. */
    private static void postReceives(Side s) {
        for (int i = 0; i < RECVS; i++) {
            s.recvs().single(i, s.region(), s.region().address() + BUFFER + (long) i * MESSAGE, MESSAGE);
            s.recvs().id(i, RECV_ID + i);
        }
        s.recvs().chain(0, RECVS);
        ok(s.qp().postReceive(s.recvs(), 0), s.name() + " ibv_post_recv of " + RECVS);
    }

    private static void send(Side s, long id, String message) {
        int n = text(s.memory(), message);
        s.sends().operation(0, RdmaAbi.IBV_WR_SEND, RdmaAbi.IBV_SEND_SIGNALED);
        s.sends().single(0, s.region(), s.region().address(), n);
        s.sends().id(0, id);
        s.sends().end(0);
        ok(s.qp().postSend(s.sends(), 0), s.name() + " ibv_post_send");
    }

    private static void rdma(Side s, int opcode, long localAddress, long remoteAddress, int rkey, int length, long id) {
        s.sends().operation(0, opcode, RdmaAbi.IBV_SEND_SIGNALED);
        s.sends().single(0, s.region(), localAddress, length);
        s.sends().remote(0, remoteAddress, rkey);
        s.sends().id(0, id);
        s.sends().end(0);
        ok(s.qp().postSend(s.sends(), 0), s.name() + " ibv_post_send opcode " + opcode);
    }

    /** Polls one completion: checks status, opcode and id; returns its byte length. */
    private static int expectCompletion(Side s, int opcode, long id) {
        long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000L;
        int n;
        while ((n = s.cq().poll(s.wcs(), 1)) == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        check(n == 1, s.name() + ": a completion for " + id + " (poll returned " + n + ")");
        WorkCompletions wc = s.wcs();
        check(wc.status(0) == RdmaAbi.IBV_WC_SUCCESS, s.name() + " completion " + wc.id(0) + ": "
                + WorkCompletions.statusText(wc.status(0)) + " (vendor error " + wc.vendorError(0) + ")");
        check(wc.opcode(0) == opcode && wc.id(0) == id, s.name() + ": expected opcode " + opcode + " id " + id
                + ", got opcode " + wc.opcode(0) + " id " + wc.id(0));
        check(wc.queuePairNumber(0) == s.qp().number(), "the completion names the queue pair");
        return wc.byteLength(0);
    }

    /** After the disconnect: the {@code expected} RECVs still posted complete with IBV_WC_WR_FLUSH_ERR. */
    private static void drainFlushed(Side s, int expected) {
        int flushed = 0;
        long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000L;
        while (flushed < expected && System.nanoTime() < deadline) {
            int n = s.cq().poll(s.wcs(), s.wcs().capacity());
            check(n >= 0, s.name() + " poll_cq after disconnect: " + n);
            for (int i = 0; i < n; i++) {
                check(s.wcs().status(i) == RdmaAbi.IBV_WC_WR_FLUSH_ERR, s.name() + " after disconnect: "
                        + WorkCompletions.statusText(s.wcs().status(i)));
                flushed++;
            }
        }
        check(flushed == expected, s.name() + ": " + flushed + " RECVs flushed, expected " + expected);
        check(s.cq().poll(s.wcs(), 1) == 0, s.name() + ": nothing more on the queue");
    }

    private void noSecondDisconnect(CmEventChannel channel, long id) {
        long until = System.nanoTime() + 1_000_000_000L;
        while (System.nanoTime() < until) {
            int rc = channel.next(event);
            check(rc >= 0, "rdma_get_cm_event: " + rc);
            if (rc == 1) {
                check(!(event.type() == CmEventType.DISCONNECTED && event.id() == id), "a second DISCONNECTED: " + event);
                step("then: " + event);
            }
        }
    }

    /** SEND slot 1 of {@code from} into RECV slot 0 of {@code to}, {@code rounds} times; nothing here allocates. */
    /** {@code rounds} SENDs from {@code from} into {@code to}'s RECVs; {@code woken}: {@code to} waits for its event. */
    private static void pingPong(Side from, Side to, int rounds, boolean woken) {
        to.recvs().single(0, to.region(), to.region().address() + BUFFER, MESSAGE);
        to.recvs().id(0, RECV_ID);
        to.recvs().end(0);
        from.sends().operation(1, RdmaAbi.IBV_WR_SEND, RdmaAbi.IBV_SEND_SIGNALED);
        from.sends().single(1, from.region(), from.region().address(), 64);
        from.sends().id(1, 300);
        from.sends().end(1);
        for (int i = 0; i < rounds; i++) {
            if (woken && to.cq().requestNotify(false) != 0) {
                throw new AssertionError("ibv_req_notify_cq failed in round " + i);
            }
            if (to.qp().postReceive(to.recvs(), 0) != 0 || from.qp().postSend(from.sends(), 1) != 0) {
                throw new AssertionError("post failed in round " + i);
            }
            pollOneQuietly(from);
            if (woken) {
                long ev;
                while ((ev = to.channel().nextEvent()) == 0) {
                    Thread.onSpinWait();
                }
                if (ev != to.cq().address()) {
                    throw new AssertionError("completion channel event " + ev + " in round " + i);
                }
            }
            pollOneQuietly(to);
        }
    }

    private static void pollOneQuietly(Side s) {
        int n;
        while ((n = s.cq().poll(s.wcs(), 1)) == 0) {
            Thread.onSpinWait();
        }
        if (n != 1 || s.wcs().status(0) != RdmaAbi.IBV_WC_SUCCESS) {
            throw new AssertionError(s.name() + ": poll " + n + ", status " + s.wcs().status(0));
        }
    }

    /** Waits for the next event on {@code channel}: {@code type}, status 0, for {@code id} unless that is -1. */
    private void expect(CmEventChannel channel, CmEventType type, long id) {
        next(channel, type, id);
        check(event.status() == 0, "expected " + type + " with status 0, got " + event);
    }

    /** Waits for the next event on {@code channel}: it must be {@code type}, for {@code id} unless that is -1. */
    private void next(CmEventChannel channel, CmEventType type, long id) {
        read(channel, type);
        check(event.type() == type && (id == -1 || event.id() == id),
                "expected " + type + " for 0x" + Long.toHexString(id) + ", got " + event);
    }

    /** Waits for the next event on {@code channel} (while waiting for {@code type}) into {@link #event}. */
    private void read(CmEventChannel channel, CmEventType type) {
        long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000L;
        int rc;
        while ((rc = channel.next(event)) == 0 && System.nanoTime() < deadline) {
            sleepBriefly();
        }
        check(rc == 1, "waiting for " + type + ": rdma_get_cm_event returned " + rc);
    }

    private static int text(MemorySegment into, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(b, 0, into, JAVA_BYTE, 0, b.length);
        return b.length;
    }

    private static String text(MemorySegment from, int length) {
        return new String(from.asSlice(0, length).toArray(JAVA_BYTE), StandardCharsets.US_ASCII);
    }

    private static void ok(int rc, String what) {
        check(rc == 0, what + ": " + io.keel.core.sys.Libc.strerror(-rc) + " (" + rc + ")");
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    private void step(String s) {
        System.out.printf("rdma-loopback: [%6.2f s] %s%n", (System.nanoTime() - t0) / 1e9, s);
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    private <T extends AutoCloseable> T own(T resource) {
        toClose.push(resource);
        return resource;
    }

    /** Frees everything in reverse order of creation: queue pairs, queues, regions, domains, ids, channels. */
    private int closeAll() {
        int rc = 0;
        while (!toClose.isEmpty()) {
            AutoCloseable c = toClose.pop();
            try {
                c.close();
            } catch (Exception e) {
                System.out.println("RDMA-LOOPBACK-FAILED: closing " + c.getClass().getSimpleName() + ": " + e);
                rc = 1;
            }
        }
        event.close();
        arena.close();
        if (rc == 0) {
            step("freed every queue pair, queue, channel, region, domain and id");
        }
        return rc;
    }
}
