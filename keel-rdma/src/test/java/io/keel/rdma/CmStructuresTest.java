package io.keel.rdma;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** Connection parameters, socket addresses and decoded CM events, without a device. */
class CmStructuresTest {
    @Test
    void connectionParametersPointAtTheirPrivateData() {
        try (ConnectionParameters p = new ConnectionParameters()) {
            p.privateData().set(JAVA_BYTE, 0, (byte) 0x42);
            p.privateDataLength(32).responderResources(16).initiatorDepth(8);
            MemorySegment s = p.segment();
            assertThat(s.get(ADDRESS, RdmaAbi.CONN_PARAM_PRIVATE_DATA).address()).isEqualTo(p.privateData().address());
            assertThat(s.get(JAVA_BYTE, RdmaAbi.CONN_PARAM_PRIVATE_DATA_LEN)).isEqualTo((byte) 32);
            assertThat(s.get(JAVA_BYTE, RdmaAbi.CONN_PARAM_RESPONDER_RESOURCES)).isEqualTo((byte) 16);
            assertThat(s.get(JAVA_BYTE, RdmaAbi.CONN_PARAM_INITIATOR_DEPTH)).isEqualTo((byte) 8);
            assertThat(s.get(JAVA_BYTE, RdmaAbi.CONN_PARAM_RETRY_COUNT)).isEqualTo((byte) 7);
            assertThat(s.get(JAVA_BYTE, RdmaAbi.CONN_PARAM_RNR_RETRY_COUNT)).isEqualTo((byte) 7);
        }
    }

    @Test
    void socketAddressesRoundTripInNetworkOrder() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = arena.allocate(RdmaAbi.SOCKADDR_STORAGE_BYTES);
            InetSocketAddress v4 = new InetSocketAddress(InetAddress.getByName("10.0.2.15"), 4420);
            SocketAddresses.write(v4, sa);
            assertThat(sa.get(JAVA_BYTE, RdmaAbi.SOCKADDR_PORT)).isEqualTo((byte) 0x11); // 4420 = 0x1144
            assertThat(sa.get(JAVA_BYTE, RdmaAbi.SOCKADDR_PORT + 1)).isEqualTo((byte) 0x44);
            assertThat(sa.get(JAVA_BYTE, RdmaAbi.SOCKADDR_IN_ADDR)).isEqualTo((byte) 10);
            assertThat(SocketAddresses.read(sa)).isEqualTo(v4);
            InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("fe80::1"), 4421);
            SocketAddresses.write(v6, sa);
            assertThat(SocketAddresses.read(sa)).isEqualTo(v6);
            sa.fill((byte) 0);
            assertThat(SocketAddresses.read(sa)).as("nothing bound").isNull();
        }
    }

    @Test
    void anEventKeepsACopyOfItsPrivateData() {
        try (CmEvent event = new CmEvent(); Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(56);
            data.set(JAVA_BYTE, 3, (byte) 9);
            event.set(CmEventType.CONNECT_REQUEST.ordinal(), 0x1000, 0x2000, 0, data, 56);
            data.fill((byte) 0);
            assertThat(event.type()).isEqualTo(CmEventType.CONNECT_REQUEST);
            assertThat(event.id()).isEqualTo(0x1000);
            assertThat(event.listenId()).isEqualTo(0x2000);
            assertThat(event.privateDataLength()).isEqualTo(56);
            assertThat(event.privateData().get(JAVA_BYTE, 3)).isEqualTo((byte) 9);
            event.connection(0, 128); // a kernel initiator: no READs against us, 128 of ours allowed
            assertThat(event.responderResources()).isZero();
            assertThat(event.initiatorDepth()).isEqualTo(128);
            assertThat(event.toString()).contains("initiator_depth=128");

            event.set(99, 0x1000, 0, -110, MemorySegment.NULL, 0);
            assertThat(event.type()).as("a type this enum does not know").isNull();
            assertThat(event.rawType()).isEqualTo(99);
            assertThat(event.privateDataLength()).isZero();
            assertThat(event.initiatorDepth()).as("reset by the next event").isZero();
            assertThat(event.toString()).contains("event 99", "status=-110");
        }
    }
}
