package io.keel.nvmf.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.nvmf.ctrlr.ListenAddress;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A listener shared by the subsystems on one address: opened by the first, closed by the last, all at a stop. */
class SharedListenersTest {
    private final List<String> opened = new ArrayList<>();
    private final List<String> closed = new ArrayList<>();
    private final SharedListeners<String> listeners = new SharedListeners<>(a -> {
        if (a.trsvcid().equals("0")) {
            throw new IOException("port 0 refused");
        }
        opened.add(a.trsvcid());
        return a.trsvcid();
    }, closed::add);

    private static ListenAddress port(String p) {
        return new ListenAddress("TCP", "IPv4", "127.0.0.1", p);
    }

    @Test
    void theFirstUserOpensTheLastClosesAndAStopClosesWhatIsLeft() throws Exception {
        assertThat(listeners.listen(port("4420"))).isTrue();
        assertThat(listeners.listen(port("4420"))).isFalse();
        assertThat(listeners.listen(port("4421"))).isTrue();
        assertThat(opened).containsExactly("4420", "4421");

        assertThat(listeners.stopListening(port("4420"))).isFalse();
        assertThat(closed).isEmpty();
        assertThat(listeners.stopListening(port("4420"))).isTrue();
        assertThat(closed).containsExactly("4420");
        assertThat(listeners.stopListening(port("4420"))).as("no user left").isFalse();

        listeners.closeAll();
        assertThat(closed).containsExactly("4420", "4421");
    }

    @Test
    void anAddressThatCannotBeOpenedHasNoUser() {
        assertThatThrownBy(() -> listeners.listen(port("0"))).isInstanceOf(IOException.class);
        assertThat(listeners.stopListening(port("0"))).isFalse();
        assertThat(closed).isEmpty();
    }
}
