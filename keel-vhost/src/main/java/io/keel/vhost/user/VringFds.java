package io.keel.vhost.user;

import io.keel.core.sys.Libc;
import io.keel.core.thread.FdWatch;

/** The eventfds one queue was given (kick, call, err) and the watch on its kick fd; each fd is closed when replaced. */
final class VringFds {
    int kick = -1;
    int call = -1;
    int err = -1;
    FdWatch kickWatch;

    void kick(int fd) {
        stopKick();
        kick = fd;
    }

    /** Stops watching the kick fd and closes it. */
    void stopKick() {
        if (kickWatch != null) {
            kickWatch.cancel();
            kickWatch = null;
        }
        Libc.closeQuietly(kick);
        kick = -1;
    }

    void call(int fd) {
        Libc.closeQuietly(call);
        call = fd;
    }

    void err(int fd) {
        Libc.closeQuietly(err);
        err = fd;
    }

    void closeAll() {
        stopKick();
        call(-1);
        err(-1);
    }
}
