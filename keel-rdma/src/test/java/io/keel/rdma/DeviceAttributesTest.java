package io.keel.rdma;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** A device's limits decoded from the struct ibv_query_device fills (offsets: RdmaAbiTest). */
class DeviceAttributesTest {
    @Test
    void theLimitsAreReadFromTheirPlaces() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(RdmaAbi.DEVICE_ATTR_BYTES, 8);
            attr.set(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_QP_WR, 16384);
            attr.set(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_SGE, 32);
            attr.set(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_CQE, 32767);
            attr.set(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_QP_RD_ATOM, 128);
            attr.set(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_QP_INIT_RD_ATOM, 64);
            attr.set(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_SRQ, 917503);
            attr.set(JAVA_INT, RdmaAbi.DEVICE_ATTR_MAX_SRQ_WR, 16384);
            DeviceAttributes d = DeviceAttributes.read(attr);
            assertThat(d.maxQpWr()).isEqualTo(16384);
            assertThat(d.maxSge()).isEqualTo(32);
            assertThat(d.maxCqe()).isEqualTo(32767);
            assertThat(d.maxQpRdAtom()).isEqualTo(128);
            assertThat(d.maxQpInitRdAtom()).isEqualTo(64);
            assertThat(d.maxSrq()).isEqualTo(917503);
            assertThat(d.maxSrqWr()).isEqualTo(16384);
            assertThat(d.maxSrqSge()).isZero();
            assertThat(d.toString()).contains("max_srq_wr 16384", "max_qp_init_rd_atom 64");
        }
    }
}
