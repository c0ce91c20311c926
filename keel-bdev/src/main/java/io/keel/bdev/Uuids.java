package io.keel.bdev;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;

/** Name-based UUIDs as SPDK derives them for virtual bdevs ({@code spdk_uuid_generate_sha1}). */
public final class Uuids {
    private Uuids() {
    }

    /** RFC 4122 version 5 (SHA-1) UUID of {@code name} in {@code namespace}. */
    public static UUID uuid5(UUID namespace, byte[] name) {
        MessageDigest sha1;
        try {
            sha1 = MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        sha1.update(bytes(namespace));
        byte[] h = sha1.digest(name);
        h[6] = (byte) (h[6] & 0x0f | 0x50);
        h[8] = (byte) (h[8] & 0x3f | 0x80);
        ByteBuffer out = ByteBuffer.wrap(h, 0, 16);
        return new UUID(out.getLong(), out.getLong());
    }

    /** uuid5 of another UUID's 16 bytes (a virtual bdev's UUID from its base's). */
    public static UUID uuid5(UUID namespace, UUID name) {
        return uuid5(namespace, bytes(name));
    }

    /** The 16 bytes of a UUID, most significant first. */
    public static byte[] bytes(UUID u) {
        return ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).array();
    }
}
