package io.keel.vhost.user;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** GET/SET_CONFIG's payload: {@code u32 offset, u32 size, u32 flags}, then {@code size} bytes of config space. */
public final class ConfigPayload {
    public static final int HEADER_BYTES = 12;
    /** VHOST_USER_MAX_CONFIG_SIZE. */
    public static final int MAX_CONFIG_BYTES = 256;

    private ConfigPayload() {
    }

    public static int offset(MemorySegment payload) {
        return payload.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
    }

    public static int size(MemorySegment payload) {
        return payload.get(ValueLayout.JAVA_INT_UNALIGNED, 4);
    }

    public static int flags(MemorySegment payload) {
        return payload.get(ValueLayout.JAVA_INT_UNALIGNED, 8);
    }

    public static void header(MemorySegment payload, int offset, int size, int flags) {
        payload.set(ValueLayout.JAVA_INT_UNALIGNED, 0, offset);
        payload.set(ValueLayout.JAVA_INT_UNALIGNED, 4, size);
        payload.set(ValueLayout.JAVA_INT_UNALIGNED, 8, flags);
    }
}
