package io.keel.rdma;

import io.keel.core.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** The two shapes of rdma-core's control-path calls: create (NULL and errno on failure) and destroy (an errno back). */
final class NativeCalls {
    private NativeCalls() {
    }

    /** A downcall that returns a new object, or NULL with errno set. */
    @FunctionalInterface
    interface Creator {
        MemorySegment create(MemorySegment callState) throws Throwable;
    }

    /** Runs a creating call with a throw-away call state, turning NULL into an {@link RdmaException}. */
    static MemorySegment created(String call, Creator creator) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = Libc.callState(arena);
            MemorySegment made = creator.create(callState);
            if (made.equals(MemorySegment.NULL)) {
                throw new RdmaException(call, -Libc.errno(callState));
            }
            return made;
        } catch (RdmaException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code int destroy(object)} returning 0 or an errno (positive, or negative from some providers). */
    static void destroyed(String call, MethodHandle destroy, MemorySegment object) {
        int rc;
        try {
            rc = (int) destroy.invokeExact(object);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        if (rc != 0) {
            throw new RdmaException(call, -Math.abs(rc));
        }
    }
}
