package io.keel.vhost.user;

import static io.keel.vhost.user.SessionFixture.ACK;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.core.sys.EventFd;
import io.keel.core.sys.Libc;
import io.keel.core.sys.SharedMemory;
import io.keel.core.testing.LogCapture;
import io.keel.core.thread.OnThread;
import io.keel.vhost.memory.GuestMemory;
import io.keel.vhost.testing.DriverRing;
import io.keel.vhost.testing.FakeFrontEnd;
import io.keel.vhost.testing.GuestRam;
import io.keel.vhost.virtio.VirtqueueRequest;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A queue brought up as QEMU brings it up serves the guest's requests; GET_VRING_BASE stops it and answers once its
 * requests are done; a new memory table under a running queue keeps the old memory until nothing points into it;
 * malformed messages and a hang-up end the session cleanly.
 */
class VhostUserSessionTest {
    private final SessionFixture s = new SessionFixture();

    @AfterEach
    void close() {
        s.close();
    }

    @Test
    void aKickedRequestReachesTheDeviceAndItsCompletionCallsTheGuest() {
        s.bringUp();
        s.driver.usedEvent(0);

        s.submit(0);
        VirtqueueRequest r = s.awaitRequests(1)[0];

        assertThat(r.head()).isZero();
        assertThat(r.writableBytes()).isEqualTo(16);
        s.complete(r);
        await().atMost(Duration.ofSeconds(5)).until(() -> s.calls() == 1);
        assertThat(s.driver.usedIdx()).isEqualTo(1);
        assertThat(s.driver.usedId(0)).isZero();
    }

    @Test
    void completionsOfOneRoundReachGuestMemoryTogetherAtItsEndTheirHeadsInFlightUntilThenALoneOneAtOnce() {
        s.bringUp();
        for (int head = 0; head < 11; head++) {
            s.submit(head);
        }
        VirtqueueRequest[] all = s.awaitRequests(11);
        int[] seen = new int[10];
        int[] inFlight = new int[1];
        OnThread.run(s.thread, () -> {
            for (int i = 0; i < 10; i++) {
                all[i].complete((byte) 0, 1);
                seen[i] = s.driver.usedIdx();
            }
            inFlight[0] = all[0].queue().inFlight();
        });
        assertThat(seen).as("while the round runs: nothing written yet").containsOnly(0);
        assertThat(inFlight[0]).as("ended, not yet written: still in flight").isEqualTo(11);
        OnThread.run(s.thread, () -> { });
        assertThat(s.driver.usedIdx()).as("all ten at the round's end, in one move").isEqualTo(10);
        assertThat(s.driver.usedId(0)).isZero();
        assertThat(s.driver.usedId(9)).isEqualTo(9);
        assertThat(all[0].queue().inFlight()).isEqualTo(1);

        int[] alone = new int[1];
        OnThread.run(s.thread, () -> {
            all[10].complete((byte) 0, 1);
            alone[0] = s.driver.usedIdx();
        });
        assertThat(alone[0]).as("the only request in flight (queue depth one): at once").isEqualTo(11);
    }

    @Test
    void twoQueuesOfOneSessionServeTheirOwnRingsOnTheSessionsThread() {
        s.bringUp();
        DriverRing second = new DriverRing(s.ram, SessionFixture.RAM_BASE + 0x4000, SessionFixture.QUEUE_SIZE);
        int kick1 = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, s.cs);
        s.acked(() -> s.qemu.sendVringState(VhostUserRequest.SET_VRING_NUM, ACK, 1, SessionFixture.QUEUE_SIZE));
        s.acked(() -> s.qemu.sendVringState(VhostUserRequest.SET_VRING_BASE, ACK, 1, 0));
        s.acked(() -> s.qemu.sendVringAddr(ACK, 1, GuestRam.qemuVa(second.descAddr()), GuestRam.qemuVa(second.usedAddr()),
                GuestRam.qemuVa(second.availAddr())));
        s.acked(() -> s.qemu.sendVringFd(VhostUserRequest.SET_VRING_KICK, ACK, 1, kick1));
        s.acked(() -> s.qemu.sendVringFd(VhostUserRequest.SET_VRING_CALL, ACK, 1, -1)); // this driver polls
        s.acked(() -> s.qemu.sendVringState(VhostUserRequest.SET_VRING_ENABLE, ACK, 1, 1));

        second.desc(4, SessionFixture.DATA + 0x800, 32, 2, 0);
        second.makeAvailable(4);
        EventFd.write(kick1, 1, s.count, s.cs);
        s.submit(0);
        VirtqueueRequest[] both = s.awaitRequests(2);

        assertThat(both).extracting(r -> r.queue().index()).containsExactlyInAnyOrder(0, 1);
        for (VirtqueueRequest r : both) {
            s.complete(r);
        }
        assertThat(second.usedIdx()).isEqualTo(1);
        assertThat(second.usedId(0)).isEqualTo(4);
        assertThat(s.driver.usedIdx()).isEqualTo(1);
        Libc.closeQuietly(kick1);
    }

    @Test
    void aNewKickFdForARunningQueueKeepsItRunningWithItsRequests() {
        s.bringUp();
        s.submit(0);
        VirtqueueRequest held = s.awaitRequests(1)[0];
        int newKick = EventFd.create(0, EventFd.EFD_NONBLOCK, s.cs);

        s.acked(() -> s.qemu.sendVringFd(VhostUserRequest.SET_VRING_KICK, ACK, 0, newKick));
        s.complete(held);
        s.driver.desc(1, SessionFixture.DATA, 16, 0, 0);
        s.driver.makeAvailable(1);
        EventFd.write(newKick, 1, s.count, s.cs);

        assertThat(s.awaitRequests(1)[0].head()).isOne();
        assertThat(s.driver.usedIdx()).as("the held request completed into the ring").isEqualTo(1);
        Libc.closeQuietly(newKick);
    }

    @Test
    void getVringBaseStopsTheQueueAndAnswersItsBaseOnceItsRequestsCompleted() {
        s.bringUp();
        s.submit(0);
        s.submit(1);
        VirtqueueRequest[] held = s.awaitRequests(2);
        s.complete(held[0]);

        s.qemu.sendVringState(VhostUserRequest.GET_VRING_BASE, VhostUserMessage.VERSION, 0, 0);
        assertThat(s.qemu.replyWithin(TimeUnit.MILLISECONDS.toNanos(100))).as("waits for request 1").isNull();
        s.complete(held[1]);

        FakeFrontEnd.Reply r = s.qemu.awaitReply();
        assertThat(r.request()).isEqualTo(VhostUserRequest.GET_VRING_BASE);
        assertThat(r.payload().get(ValueLayout.JAVA_INT_UNALIGNED, 0)).as("index").isZero();
        assertThat(r.payload().get(ValueLayout.JAVA_INT_UNALIGNED, 4)).as("last avail index").isEqualTo(2);
        assertThat(s.driver.usedIdx()).as("both completions reached the guest").isEqualTo(2);

        s.driver.desc(2, SessionFixture.DATA, 16, 0, 0);
        s.driver.makeAvailable(2);
        s.qemu.send(VhostUserRequest.GET_FEATURES, VhostUserMessage.VERSION, 0); // the session still answers
        s.qemu.awaitReply();
        assertThat(OnThread.call(s.thread, () -> s.connection.queue(0).poll(s.device, 8))).as("stopped").isZero();
        assertThat(s.device.requests).isEmpty();
    }

    @Test
    void aStoppedQueueStartsAgainFromTheBaseItWasGiven() {
        s.bringUp();
        s.submit(0);
        s.complete(s.awaitRequests(1)[0]);
        s.qemu.sendVringState(VhostUserRequest.GET_VRING_BASE, VhostUserMessage.VERSION, 0, 0);
        assertThat(s.qemu.awaitReply().payload().get(ValueLayout.JAVA_INT_UNALIGNED, 4)).isEqualTo(1);

        s.startQueue0(1); // as QEMU does with the base it was answered

        s.submit(1);
        assertThat(s.awaitRequests(1)[0].head()).as("head 0 is not taken again").isOne();
    }

    @Test
    void aNewMemoryTableWhileTheQueueRunsKeepsTheOldOneMappedUntilItsRequestsComplete() {
        s.bringUp();
        s.submit(0);
        VirtqueueRequest inOld = s.awaitRequests(1)[0];
        GuestMemory old = OnThread.call(s.thread, () -> s.connection.memory);

        // QEMU hot-adds memory: the same RAM plus a second region
        try (GuestRam extra = new GuestRam(0x4000_0000L, 1 << 16)) {
            s.acked(() -> s.qemu.sendMemTable(ACK, List.of(s.ram.region(), extra.region()), s.ram.fd(), extra.fd()));
            GuestMemory current = OnThread.call(s.thread, () -> s.connection.memory);
            assertThat(current).isNotSameAs(old);
            assertThat(current.regionCount()).isEqualTo(2);
            assertThat(OnThread.call(s.thread, old::unmapped)).as("a request still points into it").isFalse();

            // the running queue reads its rings through the new table: a request with a buffer in the new region
            s.driver.desc(1, 0x4000_0000L, 64, 2, 0);
            s.driver.makeAvailable(1);
            s.submit(2);
            VirtqueueRequest[] inNew = s.awaitRequests(2);
            assertThat(inNew[0].base(0).byteSize()).isEqualTo(1 << 16);
            inNew[0].slice(0).set(ValueLayout.JAVA_LONG, 0, 77L);
            assertThat(extra.bytes().get(ValueLayout.JAVA_LONG, 0)).isEqualTo(77L);

            s.complete(inOld);
            assertThat(OnThread.call(s.thread, old::unmapped)).as("its last request completed").isTrue();
            s.complete(inNew[0]);
            s.complete(inNew[1]);
            assertThat(s.driver.usedIdx()).isEqualTo(3);
        }
    }

    @Test
    void anOversizedMessageEndsTheSessionWithALogLine() throws Exception {
        try (LogCapture log = LogCapture.errorsOf(VhostUserConnection.class)) {
            s.qemu.prepare(VhostUserRequest.SET_MEM_TABLE, VhostUserMessage.VERSION, 1 << 20);
            s.qemu.sendPart(0, 12);

            assertThat(s.closed.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(log.lines()).singleElement().asString().contains("malformed", "1048576 bytes");
        }
        assertThat(s.qemu.closedByBackEnd()).isTrue();
    }

    @Test
    void aMessageOfAnotherProtocolVersionEndsTheSessionWithALogLine() throws Exception {
        try (LogCapture log = LogCapture.errorsOf(VhostUserConnection.class)) {
            s.qemu.send(VhostUserRequest.GET_FEATURES, 2, 0);

            assertThat(s.closed.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(log.lines()).singleElement().asString().contains("not protocol version 1");
        }
    }

    @Test
    void aMessageArrivingInPiecesIsReadWhole() {
        s.qemu.payload().set(ValueLayout.JAVA_INT_UNALIGNED, 0, 0);
        s.qemu.payload().set(ValueLayout.JAVA_INT_UNALIGNED, 4, 8);
        s.qemu.payload().set(ValueLayout.JAVA_INT_UNALIGNED, 8, 0);
        s.qemu.prepare(VhostUserRequest.GET_CONFIG, VhostUserMessage.VERSION, 12);

        s.qemu.sendPart(0, 5);
        assertThat(s.qemu.replyWithin(TimeUnit.MILLISECONDS.toNanos(20))).isNull();
        s.qemu.sendPart(5, 14);
        assertThat(s.qemu.replyWithin(TimeUnit.MILLISECONDS.toNanos(20))).isNull();
        s.qemu.sendPart(14, 24);

        FakeFrontEnd.Reply r = s.qemu.awaitReply();
        assertThat(r.request()).isEqualTo(VhostUserRequest.GET_CONFIG);
        assertThat(r.payload().get(ValueLayout.JAVA_LONG_UNALIGNED, 12)).as("capacity").isEqualTo(2048);
    }

    @Test
    void aFrontEndThatHangsUpEndsTheSessionOnceItsRequestsCompleted() throws Exception {
        s.bringUp();
        s.submit(0);
        VirtqueueRequest held = s.awaitRequests(1)[0];
        GuestMemory memory = OnThread.call(s.thread, () -> s.connection.memory);

        s.qemu.hangUp();

        await().atMost(Duration.ofSeconds(5)).until(() -> s.connection.state() == VhostUserConnection.State.CLOSING);
        assertThat(s.closed.getCount()).isOne();
        assertThat(OnThread.call(s.thread, memory::unmapped)).isFalse();
        s.complete(held);
        assertThat(s.closed.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(OnThread.call(s.thread, memory::unmapped)).isTrue();
        assertThat(s.connection.state()).isEqualTo(VhostUserConnection.State.CLOSED);
    }

    @Test
    void aFrontEndThatHangsUpWhileAQueueDrainsEndsTheSessionWithoutSpinning() throws Exception {
        s.bringUp();
        s.submit(0);
        VirtqueueRequest held = s.awaitRequests(1)[0];
        s.qemu.sendVringState(VhostUserRequest.GET_VRING_BASE, VhostUserMessage.VERSION, 0, 0);
        await().atMost(Duration.ofSeconds(5)).until(() -> s.connection.state() == VhostUserConnection.State.DRAINING);

        s.qemu.hangUp();

        await().atMost(Duration.ofSeconds(5)).until(() -> s.connection.state() == VhostUserConnection.State.CLOSING);
        s.complete(held);
        assertThat(s.closed.await(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void getInflightFdGivesAZeroedSharedRegionLaidOutForSplitQueuesThatTracksRequests() {
        s.negotiate(1L << 32 | 1L << 30);
        s.qemu.payload().fill((byte) 0);
        s.qemu.payload().set(ValueLayout.JAVA_SHORT_UNALIGNED, 16, (short) 2);
        s.qemu.payload().set(ValueLayout.JAVA_SHORT_UNALIGNED, 18, (short) SessionFixture.QUEUE_SIZE);
        s.qemu.send(VhostUserRequest.GET_INFLIGHT_FD, VhostUserMessage.VERSION, 24);

        FakeFrontEnd.Reply r = s.qemu.awaitReply();
        long size = r.payload().get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        assertThat(size).as("2 queues of (16 + 16 * 16) bytes, 64-aligned").isEqualTo(2 * 320);
        assertThat(r.fd()).isPositive();
        MemorySegment region = SharedMemory.mapShared(r.fd(), 0, size, s.cs);
        assertThat(region.get(ValueLayout.JAVA_SHORT_UNALIGNED, 10)).as("queue 0 desc_num").isEqualTo((short) 16);
        assertThat(region.get(ValueLayout.JAVA_SHORT_UNALIGNED, 320 + 8)).as("queue 1 version").isEqualTo((short) 1);

        // QEMU hands it back before starting the queues
        r.payload().set(ValueLayout.JAVA_LONG_UNALIGNED, 8, 0);
        MemorySegment.copy(r.payload(), 0, s.qemu.payload(), 0, 24);
        s.acked(() -> s.qemu.send(VhostUserRequest.SET_INFLIGHT_FD, ACK, 24, r.fd()));
        s.startQueue0();
        s.submit(3);
        VirtqueueRequest held = s.awaitRequests(1)[0];
        assertThat(region.get(ValueLayout.JAVA_BYTE, 16 + 16 * 3)).as("head 3 in flight").isEqualTo((byte) 1);
        s.complete(held);
        assertThat(region.get(ValueLayout.JAVA_BYTE, 16 + 16 * 3)).isZero();
        assertThat(region.get(ValueLayout.JAVA_SHORT_UNALIGNED, 14)).as("used_idx recorded").isEqualTo((short) 1);
        SharedMemory.unmap(region, s.cs);
        Libc.closeQuietly(r.fd());
    }

    @Test
    void ringAddressesOutsideGuestMemoryKeepTheQueueStoppedWithALogLine() {
        s.negotiate(1L << 32 | 1L << 30);
        s.acked(() -> s.qemu.sendVringState(VhostUserRequest.SET_VRING_NUM, ACK, 0, 16));
        s.acked(() -> s.qemu.sendVringAddr(ACK, 0, 0x1000, 0x2000, 0x3000));

        try (LogCapture log = LogCapture.warningsOf(VhostUserConnection.class)) {
            s.acked(() -> s.qemu.sendVringFd(VhostUserRequest.SET_VRING_KICK, ACK, 0, s.kickFd));
            assertThat(log.lines()).singleElement().asString().contains("queue 0 cannot start", "guest memory");
        }
        assertThat(OnThread.call(s.thread, () -> s.connection.queue(0).started())).isFalse();
    }
}
