package io.keel.nvme.host.rdma;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.sys.Epoll;
import io.keel.core.thread.FdWatch;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.MessageFn;
import io.keel.core.thread.Poller;
import io.keel.nvme.host.HostPollGroup;
import io.keel.nvme.host.TransportPollGroup;
import io.keel.rdma.CmEvent;
import io.keel.rdma.CmEventChannel;
import io.keel.rdma.VerbsContext;
import io.keel.rdma.WorkCompletions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RDMA state of one {@link HostPollGroup} (one lightweight thread): the RDMA CM event channel of every cm id
 * its qpairs make, watched by the thread's reactor, so each CM event is read and handled on the thread that owns
 * the qpair (rules R1, R2: no other thread ever reads it); per device a {@link RdmaDevice} (the device's
 * {@link RdmaDomain}, shared completion queues, counters); and the driving of completions: a poller in poll mode,
 * the devices' completion channels in interrupt mode. Work requests the qpairs queue during a poll (or a message
 * turn) are posted once at its end, one doorbell per qpair and direction.
 *
 * <p>Work request ids name the qpair by its slot here and the connection by a generation, so a completion of a
 * connection already torn down (flushed into the shared queue) is recognised and dropped.
 */
public final class RdmaPollGroup implements TransportPollGroup {
    private static final Logger LOG = LoggerFactory.getLogger(RdmaPollGroup.class);
    private static final int POLL_BATCH = 32;
    private static final MessageFn<RdmaPollGroup> FLUSH = RdmaPollGroup::flushFromMessage;

    private final KeelThread thread;
    private final boolean interrupt;
    private CmEventChannel cm;
    private FdWatch cmWatch;
    private final CmEvent event = new CmEvent();
    private final WorkCompletions completions = new WorkCompletions(POLL_BATCH);
    private final Map<Long, RdmaHostQpair> byCmId = new HashMap<>();
    private final List<RdmaDevice> devices = new ArrayList<>(1);
    private RdmaHostQpair[] slots = new RdmaHostQpair[4];
    private RdmaHostQpair[] dirty = new RdmaHostQpair[4];
    private int dirtyCount;
    private boolean driving;
    private boolean flushScheduled;
    private Poller poller;

    RdmaPollGroup(HostPollGroup group) {
        this.thread = group.thread();
        this.interrupt = !thread.runtime().pollsContinuously();
        if (!interrupt) {
            poller = thread.registerPoller("nvme_rdma_poll_group", this::poll);
        }
    }

    /** This thread's RDMA poll group, made on first use. Owner thread. */
    static RdmaPollGroup of(HostPollGroup group) {
        return group.transportGroup(RdmaHostTransport.NAME, RdmaPollGroup.class, RdmaPollGroup::new);
    }

    @Override
    public String transportName() {
        return RdmaHostTransport.NAME;
    }

    KeelThread thread() {
        return thread;
    }

    // ---- qpairs ----

    /** A slot for {@code q}: the qpair's part of its work request ids. */
    int add(RdmaHostQpair q) {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] == null) {
                slots[i] = q;
                return i;
            }
        }
        int i = slots.length;
        if (i >= RdmaHostQpair.MAX_SLOTS) {
            throw new IllegalStateException("more than " + RdmaHostQpair.MAX_SLOTS + " RDMA qpairs on " + thread.name());
        }
        slots = Arrays.copyOf(slots, i * 2);
        dirty = Arrays.copyOf(dirty, i * 2);
        slots[i] = q;
        return i;
    }

    void remove(int slot) {
        slots[slot] = null;
    }

    /** The CM event channel of this thread's cm ids (made on first use). */
    CmEventChannel cmChannel() {
        if (cm == null) {
            cm = CmEventChannel.create();
            cmWatch = thread.watchFd(cm.fd(), Epoll.EPOLLIN, ready -> readCmEvents());
        }
        return cm;
    }

    void register(long cmId, RdmaHostQpair q) {
        byCmId.put(cmId, q);
    }

    void unregister(long cmId) {
        byCmId.remove(cmId);
    }

    /** The group's view of the device of {@code context} (made on first use). */
    RdmaDevice device(VerbsContext context) {
        for (RdmaDevice d : devices) {
            if (d.contextAddress() == context.address()) {
                return d;
            }
        }
        RdmaDevice d = new RdmaDevice(context, thread, interrupt ? this : null);
        devices.add(d);
        return d;
    }

    /** {@code q} has work requests to post: at the end of this poll, or in a message turn when not polling. */
    void dirty(RdmaHostQpair q) {
        if (q.dirty) {
            return;
        }
        q.dirty = true;
        dirty[dirtyCount++] = q;
        if (!driving && !flushScheduled) {
            flushScheduled = true;
            thread.send(FLUSH, this);
        }
    }

    // ---- events ----

    private int readCmEvents() {
        if (cm == null) {
            return 0; // readiness reported in the same reactor turn as the close
        }
        int n = 0;
        int rc;
        while ((rc = cm.next(event)) > 0) {
            n++;
            RdmaHostQpair q = byCmId.get(event.id());
            if (q != null) {
                q.onCmEvent(event);
            } else {
                LOG.debug("nvme rdma: {} for a cm id no qpair owns (torn down)", event);
            }
        }
        if (rc < 0) {
            LOG.error("nvme rdma: rdma_get_cm_event on {} failed: {}", thread.name(), rc);
        }
        return n;
    }

    private int poll() {
        driving = true;
        int n = 0;
        try {
            for (int i = 0; i < devices.size(); i++) {
                n += devices.get(i).poll(completions, this);
            }
        } finally {
            driving = false;
        }
        flush();
        return n;
    }

    int onCompletionEvent(RdmaDevice d) {
        driving = true;
        int n;
        try {
            n = d.onChannelReadable(completions, this);
        } finally {
            driving = false;
        }
        flush();
        return n;
    }

    /** Hands {@code n} completions to their qpairs (those of a connection that is gone are dropped). */
    void dispatch(WorkCompletions wcs, int n) {
        for (int i = 0; i < n; i++) {
            long id = wcs.id(i);
            RdmaHostQpair q = slots[RdmaHostQpair.slotOf(id)];
            if (q != null && q.owns(id)) {
                q.onCompletion(id, wcs, i);
            }
        }
    }

    private void flushFromMessage() {
        flushScheduled = false;
        flush();
    }

    private void flush() {
        for (int i = 0; i < dirtyCount; i++) {
            RdmaHostQpair q = dirty[i];
            dirty[i] = null;
            q.dirty = false;
            q.postQueued();
        }
        dirtyCount = 0;
    }

    // ---- statistics and life ----

    @Override
    public void statistics(ObjectNode out) {
        ArrayNode list = out.putArray("devices");
        devices.forEach(d -> d.statistics(list.addObject()));
    }

    @Override
    public void close() {
        if (poller != null) {
            poller.unregister();
            poller = null;
        }
        if (cmWatch != null) {
            cmWatch.cancel();
            cmWatch = null;
        }
        devices.forEach(RdmaDevice::close);
        devices.clear();
        if (cm != null) {
            cm.close();
            cm = null;
        }
        completions.close();
        event.close();
    }
}
