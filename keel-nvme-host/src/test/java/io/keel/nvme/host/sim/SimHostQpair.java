package io.keel.nvme.host.sim;

import io.keel.core.thread.KeelThread;
import io.keel.nvme.host.HostPollGroup;
import io.keel.nvme.host.HostQpair;
import io.keel.nvme.host.HostRequest;
import io.keel.nvme.host.QpairConfig;
import java.lang.foreign.MemorySegment;

/**
 * A host queue pair whose "wire" is messages to a {@link SimController}: commands are copied out (SQE and write
 * data) and sent to the controller's thread; answers come back as messages, read data copied into the request's
 * segments. A connection generation makes answers for an earlier connection do nothing, as bytes of a closed
 * socket would never arrive. Test code: it allocates per command.
 */
final class SimHostQpair extends HostQpair {
    private final SimController ctrl;
    private int gen;
    private boolean up;

    SimHostQpair(HostPollGroup group, QpairConfig config, Listener listener, SimController ctrl) {
        super(group, config, listener);
        this.ctrl = ctrl;
    }

    KeelThread thread() {
        return thread;
    }

    @Override
    protected void startConnect() {
        int g = ++gen;
        ctrl.thread.send(() -> ctrl.open(this, g));
    }

    void linkOpened(int g) {
        if (g == gen && state() == State.CONNECTING) {
            up = true;
            transportReady();
        }
    }

    void linkRefused(int g, String why) {
        if (g == gen) {
            transportFailed(why);
        }
    }

    void linkLost(int g, String why) {
        if (g == gen && up) {
            transportFailed(why);
        }
    }

    @Override
    protected boolean send(HostRequest r) {
        byte[] sqe = r.sqeBytes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        byte[] out = null;
        int in = 0;
        if (r.toController()) {
            out = new byte[(int) r.length()];
            r.copyOut(0, MemorySegment.ofArray(out), 0, out.length);
        } else {
            in = (int) r.length();
        }
        int g = gen;
        byte[] o = out;
        int len = in;
        ctrl.thread.send(() -> ctrl.execute(this, g, sqe, o, len));
        return true;
    }

    void deliver(int g, int cid, int status, long result, byte[] in) {
        if (g != gen || !up) {
            return;
        }
        HostRequest r = outstanding(cid);
        if (r == null) {
            transportFailed("answer for command " + cid + " that is not outstanding");
            return;
        }
        if (in != null && in.length > 0) {
            r.copyIn(MemorySegment.ofArray(in), 0, 0, Math.min(in.length, r.length()));
        }
        if (!complete(cid, status, result)) {
            transportFailed("answer for command " + cid + " that is not outstanding");
        }
    }

    @Override
    protected void startDisconnect() {
        up = false;
        int g = gen++;
        ctrl.thread.send(() -> ctrl.close(this, g));
        transportClosed();
    }

    @Override
    protected void releaseTransport() {
    }
}
