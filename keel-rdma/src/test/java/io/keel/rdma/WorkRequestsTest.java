package io.keel.rdma;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The work request arrays lay out ibv_send_wr, ibv_recv_wr and ibv_sge as the provider reads them. */
class WorkRequestsTest {
    @Test
    void aSendChainLinksSlotsInOrderWithTheirGatherListsAndRemoteKeys() {
        try (SendWorkRequests wrs = new SendWorkRequests(4, 2)) {
            wrs.id(1, 0xABCDL);
            wrs.operation(1, RdmaAbi.IBV_WR_RDMA_WRITE, RdmaAbi.IBV_SEND_SIGNALED);
            wrs.remote(1, 0x7000_1000L, 0x55);
            wrs.sge(1, 0, 0x1000L, 512, 7);
            wrs.sge(1, 1, 0x2000L, 256, 8);
            wrs.sgeCount(1, 2);
            wrs.immediate(2, 0x01020304);
            wrs.chain(1, 3);

            MemorySegment wr = wrs.slot(1);
            assertThat(wr.address()).isEqualTo(wrs.requests.address() + RdmaAbi.SEND_WR_BYTES);
            assertThat(wr.get(JAVA_LONG, RdmaAbi.SEND_WR_ID)).isEqualTo(0xABCDL);
            assertThat(wr.get(JAVA_INT, RdmaAbi.SEND_WR_OPCODE)).isEqualTo(RdmaAbi.IBV_WR_RDMA_WRITE);
            assertThat(wr.get(JAVA_INT, RdmaAbi.SEND_WR_SEND_FLAGS)).isEqualTo(RdmaAbi.IBV_SEND_SIGNALED);
            assertThat(wr.get(JAVA_LONG, RdmaAbi.SEND_WR_RDMA_REMOTE_ADDR)).isEqualTo(0x7000_1000L);
            assertThat(wr.get(JAVA_INT, RdmaAbi.SEND_WR_RDMA_RKEY)).isEqualTo(0x55);
            assertThat(wr.get(JAVA_INT, RdmaAbi.SEND_WR_NUM_SGE)).isEqualTo(2);
            assertThat(wrs.slot(2).get(JAVA_INT, RdmaAbi.SEND_WR_IMM_DATA)).isEqualTo(0x01020304);
            assertThat(wrs.slot(0).get(JAVA_LONG, RdmaAbi.SEND_WR_ID)).as("ids start as the slot").isZero();

            MemorySegment sgl = wr.get(ADDRESS, RdmaAbi.SEND_WR_SG_LIST).reinterpret(2 * RdmaAbi.SGE_BYTES);
            assertThat(sgl.get(JAVA_LONG, RdmaAbi.SGE_ADDR)).isEqualTo(0x1000L);
            assertThat(sgl.get(JAVA_INT, RdmaAbi.SGE_LENGTH)).isEqualTo(512);
            assertThat(sgl.get(JAVA_INT, RdmaAbi.SGE_LKEY)).isEqualTo(7);
            assertThat(sgl.get(JAVA_LONG, RdmaAbi.SGE_BYTES + RdmaAbi.SGE_ADDR)).isEqualTo(0x2000L);

            assertThat(wr.get(ADDRESS, RdmaAbi.SEND_WR_NEXT).address()).isEqualTo(wrs.slot(2).address());
            assertThat(wrs.slot(2).get(ADDRESS, RdmaAbi.SEND_WR_NEXT).address()).isEqualTo(wrs.slot(3).address());
            assertThat(wrs.slot(3).get(ADDRESS, RdmaAbi.SEND_WR_NEXT)).isEqualTo(MemorySegment.NULL);
        }
    }

    @Test
    void slotsFromDifferentPlacesChainInAnyOrder() {
        try (RecvWorkRequests wrs = new RecvWorkRequests(8, 1)) {
            wrs.link(5, 2);
            wrs.link(2, 7);
            wrs.end(7);
            assertThat(wrs.slot(5).get(ADDRESS, RdmaAbi.RECV_WR_NEXT).address()).isEqualTo(wrs.slot(2).address());
            assertThat(wrs.slot(2).get(ADDRESS, RdmaAbi.RECV_WR_NEXT).address()).isEqualTo(wrs.slot(7).address());
            assertThat(wrs.slot(7).get(ADDRESS, RdmaAbi.RECV_WR_NEXT)).isEqualTo(MemorySegment.NULL);
            assertThat(wrs.slot(3).get(ADDRESS, RdmaAbi.RECV_WR_SG_LIST).address())
                    .isEqualTo(wrs.slot(0).get(ADDRESS, RdmaAbi.RECV_WR_SG_LIST).address() + 3 * RdmaAbi.SGE_BYTES);
        }
    }

    @Test
    void theFailedSlotIsFoundFromTheProvidersBadRequestPointer() {
        try (SendWorkRequests wrs = new SendWorkRequests(4, 1)) {
            wrs.badRequest.set(ADDRESS, 0, wrs.slot(3));
            assertThat(wrs.failedSlot()).isEqualTo(3);
            wrs.badRequest.set(ADDRESS, 0, MemorySegment.NULL);
            assertThat(wrs.failedSlot()).isEqualTo(-1);
        }
    }

    @Test
    void outOfRangeSlotsAndEntriesAreRefused() {
        try (SendWorkRequests wrs = new SendWorkRequests(2, 1)) {
            assertThatThrownBy(() -> wrs.sge(0, 1, 0, 1, 1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> wrs.sgeCount(0, 2)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> wrs.operation(2, RdmaAbi.IBV_WR_SEND, 0))
                    .isInstanceOf(IndexOutOfBoundsException.class);
        }
    }
}
