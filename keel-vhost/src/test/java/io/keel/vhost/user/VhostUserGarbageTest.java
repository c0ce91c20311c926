package io.keel.vhost.user;

import static io.keel.vhost.user.SessionFixture.ACK;
import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.sys.Libc;
import io.keel.vhost.testing.FakeFrontEnd;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A front end that sends every request code with random payloads (framed correctly, each asking for an answer) gets
 * exactly one answer per message and a session that still works afterwards: nothing it sends crashes or wedges it.
 */
class VhostUserGarbageTest {
    private final SessionFixture s = new SessionFixture();

    @AfterEach
    void close() {
        s.close();
    }

    @Test
    void randomPayloadsForEveryRequestAreAnsweredOnceAndTheSessionGoesOn() {
        long seed = Long.getLong("keel.vhost.seed", System.nanoTime());
        Random random = new Random(seed);
        s.bringUp();
        for (int round = 0; round < 200; round++) {
            int request = random.nextInt(45);
            int size = random.nextInt(4) == 0 ? random.nextInt(300) : random.nextInt(48);
            for (int i = 0; i < size; i++) {
                s.qemu.payload().set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(256));
            }
            s.qemu.send(request, ACK, size);

            FakeFrontEnd.Reply r = s.qemu.awaitReply();
            assertThat(r.request()).as("seed %d, round %d: the answer to request %d", seed, round, request)
                    .isEqualTo(request);
            if (r.fd() >= 0) {
                Libc.closeQuietly(r.fd());
            }
            if (request == VhostUserRequest.SET_PROTOCOL_FEATURES || request == VhostUserRequest.RESET_OWNER
                    || request == VhostUserRequest.RESET_DEVICE) {
                s.qemu.sendU64(VhostUserRequest.SET_PROTOCOL_FEATURES, VhostUserMessage.VERSION,
                        1L << ProtocolFeatures.REPLY_ACK); // keep the acknowledgements coming
            }
        }
        assertThat(s.features()).as("seed %d: still answering", seed).isNotZero();
    }
}
