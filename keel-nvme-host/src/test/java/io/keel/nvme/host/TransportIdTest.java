package io.keel.nvme.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Parsing SPDK's transport ID text, as {@code keel perf -r} takes it. */
class TransportIdTest {
    @Test
    void parsesSpdkPerfStyleText() {
        TransportId t = TransportId.parse(
                "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:nqn.2024-11.io.keel:default");
        assertThat(t).isEqualTo(new TransportId("TCP", "IPv4", "127.0.0.1", 4420, "nqn.2024-11.io.keel:default"));
        assertThat(t.address().getPort()).isEqualTo(4420);
    }

    @Test
    void acceptsAnyOrderCaseEqualsSignsAndDefaults() {
        TransportId t = TransportId.parse("  SUBNQN=nqn.x:y  traddr=10.0.0.1 TrType:tcp ");
        assertThat(t.traddr()).isEqualTo("10.0.0.1");
        assertThat(t.subnqn()).isEqualTo("nqn.x:y");
        assertThat(t.trsvcid()).isEqualTo(TransportId.DEFAULT_PORT);
        assertThat(t.adrfam()).isEqualTo("IPv4");
    }

    @Test
    void rejectsWhatItCannotUse() {
        assertThatThrownBy(() -> TransportId.parse("trtype:FC traddr:1.2.3.4 subnqn:n"))
                .hasMessageContaining("TCP or RDMA");
        assertThatThrownBy(() -> TransportId.parse("traddr:1.2.3.4 subnqn:n")).hasMessageContaining("trtype");
        assertThatThrownBy(() -> TransportId.parse("trtype:TCP subnqn:n")).hasMessageContaining("traddr");
        assertThatThrownBy(() -> TransportId.parse("trtype:TCP traddr:1.2.3.4")).hasMessageContaining("subnqn");
        assertThatThrownBy(() -> TransportId.parse("trtype:TCP traddr:1.2.3.4 subnqn:n trsvcid:x"))
                .hasMessageContaining("port");
        assertThatThrownBy(() -> TransportId.parse("trtype:TCP traddr:1.2.3.4 subnqn:n bogus:1"))
                .hasMessageContaining("bogus");
        assertThatThrownBy(() -> TransportId.parse("trtype:TCP traddr subnqn:n")).hasMessageContaining("key:value");
        assertThatThrownBy(() -> TransportId.parse("trtype:TCP traddr:localhost subnqn:n"))
                .hasMessageContaining("not an IP address"); // resolving a name could block a reactor
    }
}
