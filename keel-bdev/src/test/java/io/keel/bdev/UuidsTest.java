package io.keel.bdev;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Name-based UUIDs match RFC 4122 version 5 (values computed with Python's uuid/hashlib). */
class UuidsTest {
    private static final UUID NS = UUID.fromString("7e25812e-c8c0-4d3f-8599-16d790555b85");
    private static final UUID BASE = UUID.fromString("79f4e140-e8e1-4bb7-8b18-5a707ce3f9c9");

    @Test
    void rfc4122ExampleNamespaceDns() {
        UUID dns = UUID.fromString("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
        assertThat(Uuids.uuid5(dns, "keel.io".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(UUID.fromString("d2fcf302-c54f-5bdf-b3ce-ecbe5c0dd25e"));
    }

    @Test
    void fromAnotherUuidAndFromAPartRange() {
        assertThat(Uuids.uuid5(NS, BASE)).isEqualTo(UUID.fromString("9a069fb7-39b3-560d-8a42-be7adb62b328"));
        byte[] part = java.nio.ByteBuffer.allocate(32).put(Uuids.bytes(BASE)).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putLong(0).putLong(65536).array(); // how the error bdev names its part of the base
        assertThat(Uuids.uuid5(NS, part)).isEqualTo(UUID.fromString("a0706daa-157a-50df-b2d4-02874f41fffd"));
    }
}
