package io.keel.rdma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** A host without RDMA is told so in words, and creating anything fails with an errno rather than a crash. */
class RdmaAvailabilityTest {
    @Test
    void saysWhetherRdmaIsUsableAndWhyNot() {
        Rdma.Availability a = Rdma.availability();
        System.out.println("RDMA availability: " + a);
        assertThat(a.reason()).isNotBlank();
        if (a.usable()) {
            assertThat(a.devices()).isNotEmpty();
        } else {
            assertThat(a.reason()).containsAnyOf("no RDMA device", "cannot be loaded", "no RDMA CM", "supported on");
        }
    }

    @Test
    void withoutTheRdmaCmAnEventChannelFailsWithAnErrno() {
        Rdma.Availability a = Rdma.availability();
        Assumptions.assumeFalse(a.usable(), "this machine has RDMA (" + a.reason() + ")");
        Assumptions.assumeTrue(RdmaNative.MISSING == null, "rdma-core is not installed: " + RdmaNative.MISSING);
        assertThatThrownBy(CmEventChannel::create).isInstanceOf(RdmaException.class)
                .hasMessageStartingWith("rdma_create_event_channel: ")
                .satisfies(e -> assertThat(((RdmaException) e).errno()).isNegative());
    }
}
