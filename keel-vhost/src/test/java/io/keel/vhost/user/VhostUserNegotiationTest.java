package io.keel.vhost.user;

import static io.keel.vhost.user.SessionFixture.ACK;
import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.testing.LogCapture;
import io.keel.core.thread.OnThread;
import io.keel.vhost.blk.VirtioBlkFeatures;
import io.keel.vhost.testing.FakeFrontEnd;
import io.keel.vhost.virtio.VirtioFeatures;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The questions QEMU asks first and the features it settles, answered as vhost-user.rst says. */
class VhostUserNegotiationTest {
    private final SessionFixture s = new SessionFixture();

    @AfterEach
    void close() {
        s.close();
    }

    @Test
    void featuresOfferedAreTheDevicesPlusTheRingsAndTheTransports() {
        long offered = s.features();

        assertThat(offered).isEqualTo(s.device.deviceFeatures() | 1L << VirtioFeatures.VERSION_1
                | 1L << VirtioFeatures.RING_INDIRECT_DESC | 1L << VirtioFeatures.RING_EVENT_IDX
                | 1L << ProtocolFeatures.VHOST_USER_F_PROTOCOL_FEATURES);
        assertThat(offered & 1L << VirtioBlkFeatures.MQ).isNotZero();
    }

    @Test
    void protocolFeaturesIncludeWhatQemuUsesForMultiqueueConfigAcksInflightResetAndStatus() {
        s.qemu.send(VhostUserRequest.GET_PROTOCOL_FEATURES, VhostUserMessage.VERSION, 0);
        FakeFrontEnd.Reply r = s.qemu.awaitReply();

        assertThat(r.request()).isEqualTo(VhostUserRequest.GET_PROTOCOL_FEATURES);
        assertThat(r.flags()).isEqualTo(VhostUserMessage.VERSION | VhostUserMessage.FLAG_REPLY);
        assertThat(r.size()).isEqualTo(8);
        assertThat(r.u64()).isEqualTo(1L << 0 | 1L << 3 | 1L << 9 | 1L << 12 | 1L << 13 | 1L << 16);
        s.qemu.send(VhostUserRequest.GET_QUEUE_NUM, VhostUserMessage.VERSION, 0);
        assertThat(s.qemu.awaitReply().u64()).isEqualTo(2);
    }

    @Test
    void aFeatureThatWasNotOfferedIsRefusedWithAFailedAckAndALogLine() {
        s.negotiate(1L << VirtioFeatures.VERSION_1);

        try (LogCapture log = LogCapture.warningsOf(MessageHandlers.class)) {
            s.qemu.sendU64(VhostUserRequest.SET_FEATURES, ACK, 1L << 26); // VHOST_F_LOG_ALL: not offered
            assertThat(s.qemu.awaitReply().u64()).isEqualTo(1);
            assertThat(log.lines()).singleElement().asString().contains("SET_FEATURES refused", "not offered");
        }
        assertThat(OnThread.call(s.thread, s.connection::negotiatedFeatures)).isEqualTo(1L << VirtioFeatures.VERSION_1);
    }

    @Test
    void nothingIsMappedBeforeSetOwner() {
        s.qemu.sendU64(VhostUserRequest.SET_PROTOCOL_FEATURES, VhostUserMessage.VERSION, 1L << ProtocolFeatures.REPLY_ACK);

        try (LogCapture log = LogCapture.warningsOf(MessageHandlers.class)) {
            s.qemu.sendMemTable(ACK, List.of(s.ram.region()), s.ram.fd());
            assertThat(s.qemu.awaitReply().u64()).isEqualTo(1);
            assertThat(log.lines()).singleElement().asString().contains("before SET_OWNER");
        }
        assertThat(OnThread.call(s.thread, () -> s.connection.memory)).isNull();
        assertThat(s.connection.state()).isEqualTo(VhostUserConnection.State.AWAITING_OWNER);
    }

    @Test
    void getConfigReadsTheVirtioBlkConfigSpaceAtTheSpecsOffsets() {
        s.qemu.sendU64(VhostUserRequest.SET_OWNER, VhostUserMessage.VERSION, 0);
        s.qemu.payload().set(ValueLayout.JAVA_INT_UNALIGNED, 0, 0);
        s.qemu.payload().set(ValueLayout.JAVA_INT_UNALIGNED, 4, 96); // QEMU 8's struct: bigger than virtio 1.1's
        s.qemu.payload().set(ValueLayout.JAVA_INT_UNALIGNED, 8, 0);
        s.qemu.send(VhostUserRequest.GET_CONFIG, VhostUserMessage.VERSION, 12 + 96);

        FakeFrontEnd.Reply r = s.qemu.awaitReply();

        assertThat(r.size()).isEqualTo(12 + 96);
        var c = r.payload().asSlice(12);
        assertThat(c.get(ValueLayout.JAVA_LONG_UNALIGNED, 0)).as("capacity").isEqualTo(2048);
        assertThat(c.get(ValueLayout.JAVA_INT_UNALIGNED, 12)).as("seg_max").isEqualTo(6);
        assertThat(c.get(ValueLayout.JAVA_INT_UNALIGNED, 20)).as("blk_size").isEqualTo(512);
        assertThat(c.get(ValueLayout.JAVA_SHORT_UNALIGNED, 34)).as("num_queues").isEqualTo((short) 2);
        assertThat(c.get(ValueLayout.JAVA_INT_UNALIGNED, 36)).as("max_discard_sectors").isEqualTo(1 << 16);
        assertThat(c.get(ValueLayout.JAVA_INT_UNALIGNED, 40)).as("max_discard_seg").isEqualTo(1);
        assertThat(c.get(ValueLayout.JAVA_INT_UNALIGNED, 44)).as("discard_sector_alignment").isEqualTo(8);
        assertThat(c.get(ValueLayout.JAVA_INT_UNALIGNED, 48)).as("max_write_zeroes_sectors").isEqualTo(1 << 15);
        assertThat(c.get(ValueLayout.JAVA_INT_UNALIGNED, 52)).as("max_write_zeroes_seg").isEqualTo(1);
        assertThat(c.get(ValueLayout.JAVA_BYTE, 56)).as("write_zeroes_may_unmap").isEqualTo((byte) 1);
        assertThat(c.get(ValueLayout.JAVA_LONG_UNALIGNED, 60)).as("beyond virtio 1.1: zeros").isZero();
    }

    @Test
    void aConfigRequestOverTheLimitGetsAnEmptyAnswerAndSetConfigReachesTheDevice() {
        s.negotiate(1L << VirtioFeatures.VERSION_1);
        s.qemu.payload().set(ValueLayout.JAVA_INT_UNALIGNED, 0, 0);
        s.qemu.payload().set(ValueLayout.JAVA_INT_UNALIGNED, 4, 300);
        s.qemu.send(VhostUserRequest.GET_CONFIG, VhostUserMessage.VERSION, 12);
        assertThat(s.qemu.awaitReply().size()).isZero();

        s.qemu.payload().set(ValueLayout.JAVA_INT_UNALIGNED, 0, 32); // writeback
        s.qemu.payload().set(ValueLayout.JAVA_INT_UNALIGNED, 4, 1);
        s.qemu.payload().set(ValueLayout.JAVA_INT_UNALIGNED, 8, 0);
        s.qemu.payload().set(ValueLayout.JAVA_BYTE, 12, (byte) 1);
        s.acked(() -> s.qemu.send(VhostUserRequest.SET_CONFIG, ACK, 13));
        assertThat(s.device.config.writeback()).isTrue();
    }

    @Test
    void statusIsRecordedAndAnsweredAndAStatusOfZeroLeavesTheQueuesBase() {
        s.bringUp();
        s.submit(0);
        s.complete(s.awaitRequests(1)[0]);

        s.acked(() -> s.qemu.sendU64(VhostUserRequest.SET_STATUS, ACK, 0xf));
        s.qemu.send(VhostUserRequest.GET_STATUS, VhostUserMessage.VERSION, 0);
        assertThat(s.qemu.awaitReply().u64()).isEqualTo(0xf);
        s.acked(() -> s.qemu.sendU64(VhostUserRequest.SET_STATUS, ACK, 0)); // QEMU 7.2+ on stop, before GET_VRING_BASE

        s.qemu.sendVringState(VhostUserRequest.GET_VRING_BASE, VhostUserMessage.VERSION, 0, 0);
        assertThat(s.qemu.awaitReply().payload().get(ValueLayout.JAVA_INT_UNALIGNED, 4)).isEqualTo(1);
    }
}
