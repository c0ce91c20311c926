package io.keel.core.sys;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.channels.SelectableChannel;

/** The file descriptor under a NIO channel, where the JVM runs with {@code --add-exports java.base/sun.nio.ch}. */
public final class NioFds {
    /** {@code sun.nio.ch.SelChImpl.getFDVal()}, or null where the package is not exported to us. */
    private static final MethodHandle FD_VAL = fdValHandle();

    private NioFds() {
    }

    private static MethodHandle fdValHandle() {
        try {
            Class<?> c = Class.forName("sun.nio.ch.SelChImpl");
            return MethodHandles.lookup().findVirtual(c, "getFDVal", MethodType.methodType(int.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // callers fall back to NIO
        }
    }

    /** Whether {@link #fdOf} can see channels' fds (the JVM runs with the export). */
    public static boolean available() {
        return FD_VAL != null;
    }

    /**
     * The file descriptor of a NIO channel, or -1 where the JDK does not let us see it. The channel keeps owning it: use it only on the channel's owner thread, while it is open.
     */
    public static int fdOf(SelectableChannel channel) {
        if (FD_VAL == null) {
            return -1;
        }
        try {
            return (int) FD_VAL.invoke(channel);
        } catch (Throwable t) {
            return -1;
        }
    }
}
