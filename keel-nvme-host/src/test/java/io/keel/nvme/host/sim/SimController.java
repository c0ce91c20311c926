package io.keel.nvme.host.sim;

import io.keel.core.thread.KeelThread;
import io.keel.nvme.spec.ConnectData;
import io.keel.nvme.spec.FeatureId;
import io.keel.nvme.spec.IdentifyController;
import io.keel.nvme.spec.IdentifyNamespace;
import io.keel.nvme.spec.NamespaceIdList;
import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.Properties;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An NVMe-oF controller for the deterministic simulation: it lives on its own lightweight thread and talks to
 * {@link SimHostQpair}s only by messages, so every interleaving of commands, answers, losses and events is the
 * simulation's to choose (and to replay from its seed). It keeps a small memory namespace 1 (and namespace 2 when
 * added), answers the admin and Fabrics commands a host's bring-up sends, holds Asynchronous Event Requests until
 * {@link #changeNamespaces} fires them, and can be killed (every connection lost, new ones refused) and revived.
 */
public final class SimController {
    static final int BLOCK = 512;
    public static final String NQN = "nqn.2024-12.io.keel:sim";

    final KeelThread thread;
    private final byte[] data;
    private final long blocks;
    private final Map<Integer, Long> namespaces = new TreeMap<>();
    private final Map<SimHostQpair, Link> links = new HashMap<>();
    private final List<Held> aers = new ArrayList<>();
    private int nextCntlid = 1;
    private boolean dead;
    private long commands;
    private int ioConnectsToRefuse;

    private record Link(int gen, int qid, int[] cc) {
    }

    private record Held(SimHostQpair q, int gen, int cid) {
    }

    public SimController(KeelThread thread, int blocks) {
        this.thread = thread;
        this.blocks = blocks;
        this.data = new byte[blocks * BLOCK];
        namespaces.put(1, (long) blocks);
    }

    /** Commands executed so far (owner thread, or after the simulation stopped). */
    public long commands() {
        return commands;
    }

    // ---- links (called on this controller's thread) ----

    void open(SimHostQpair q, int gen) {
        if (dead) {
            q.thread().send(() -> q.linkRefused(gen, "connection refused (controller down)"));
            return;
        }
        links.put(q, new Link(gen, -1, new int[] {0}));
        q.thread().send(() -> q.linkOpened(gen));
    }

    void close(SimHostQpair q, int gen) {
        Link l = links.get(q);
        if (l != null && l.gen == gen) {
            links.remove(q);
            aers.removeIf(h -> h.q == q);
        }
    }

    void execute(SimHostQpair q, int gen, byte[] sqeBytes, byte[] out, int inLength) {
        Link l = links.get(q);
        if (dead || l == null || l.gen != gen) {
            return; // the connection is gone: nothing answers
        }
        commands++;
        Sqe s = new Sqe().wrap(MemorySegment.ofArray(sqeBytes), 0);
        int cid = s.cid();
        if (s.opcode() == Opcode.FABRICS) {
            fabrics(q, gen, l, s, out);
        } else if (l.qid == 0) {
            admin(q, gen, l, s, inLength);
        } else {
            io(q, gen, s, out, inLength);
        }
    }

    private void fabrics(SimHostQpair q, int gen, Link l, Sqe s, byte[] out) {
        int cid = s.cid();
        switch (s.fabrics().fctype()) {
            case Opcode.Fabrics.CONNECT -> {
                ConnectData cd = new ConnectData().wrap(MemorySegment.ofArray(out));
                int qid = s.connect().qid();
                if (!cd.subnqn().equals(NQN) || qid != 0 && cd.cntlid() >= nextCntlid) {
                    answer(q, gen, cid, Status.field(Status.code(Status.SCT_COMMAND_SPECIFIC, 0x82), true), 0, null);
                    return;
                }
                if (qid != 0 && ioConnectsToRefuse > 0) {
                    ioConnectsToRefuse--;
                    answer(q, gen, cid, Status.field(Status.COMMAND_SEQUENCE_ERROR, true), 0, null);
                    return;
                }
                int cntlid = qid == 0 ? nextCntlid++ : cd.cntlid();
                links.put(q, new Link(gen, qid, l.cc));
                answer(q, gen, cid, 0, cntlid, null);
            }
            case Opcode.Fabrics.PROPERTY_GET -> {
                int cc = l.cc[0];
                long v = switch (s.property().ofst()) {
                    case Properties.CAP -> Properties.Cap.of(127, true, 0, 1, 0, false, 1, 0, 0);
                    case Properties.VS -> Properties.VS_1_3;
                    case Properties.CC -> cc;
                    case Properties.CSTS -> (Properties.Cc.en(cc) ? 1 : 0) | (Properties.Cc.shn(cc) != 0 ? 2 << 2 : 0);
                    default -> 0;
                };
                answer(q, gen, cid, 0, v, null);
            }
            case Opcode.Fabrics.PROPERTY_SET -> {
                if (s.property().ofst() == Properties.CC) {
                    l.cc[0] = (int) s.property().value();
                }
                answer(q, gen, cid, 0, 0, null);
            }
            default -> answer(q, gen, cid, Status.field(Status.INVALID_OPCODE, true), 0, null);
        }
    }

    private void admin(SimHostQpair q, int gen, Link l, Sqe s, int inLength) {
        int cid = s.cid();
        switch (s.opcode()) {
            case Opcode.IDENTIFY -> {
                byte[] page = new byte[4096];
                MemorySegment m = MemorySegment.ofArray(page);
                switch (s.identify().cns()) {
                    case 1 -> new IdentifyController().wrap(m).cntlid(1).ioccsz(4 + 4096 / 16).iorcsz(1).icdoff(0)
                            .sqes(6, 6).cqes(4, 4).subnqn(NQN).oaes(IdentifyController.OAES_NAMESPACE_ATTRIBUTE)
                            .aerl(3).oncs(IdentifyController.ONCS_WRITE_ZEROES | IdentifyController.ONCS_DSM).nn(32);
                    case 2 -> {
                        NamespaceIdList list = new NamespaceIdList().wrap(m);
                        int i = 0;
                        for (int nsid : namespaces.keySet()) {
                            list.nsid(i++, nsid);
                        }
                    }
                    default -> {
                        Long n = namespaces.get(s.nsid());
                        if (n != null) {
                            new IdentifyNamespace().wrap(m).nsze(n).ncap(n).nuse(n).nlbaf(0).lbaf(0, 0, 9, 0);
                        }
                    }
                }
                answer(q, gen, cid, 0, 0, java.util.Arrays.copyOf(page, inLength));
            }
            case Opcode.SET_FEATURES -> answer(q, gen, cid, 0,
                    s.features().fid() == FeatureId.NUMBER_OF_QUEUES ? s.cdw11() : 0, null);
            case Opcode.ASYNC_EVENT_REQUEST -> aers.add(new Held(q, gen, cid));
            case Opcode.GET_LOG_PAGE -> answer(q, gen, cid, 0, 0, new byte[inLength]);
            case Opcode.KEEP_ALIVE -> answer(q, gen, cid, 0, 0, null);
            case Opcode.ABORT -> answer(q, gen, cid, 0, 1, null); // "not aborted", as Keel's target answers
            default -> answer(q, gen, cid, Status.field(Status.INVALID_OPCODE, true), 0, null);
        }
    }

    private void io(SimHostQpair q, int gen, Sqe s, byte[] out, int inLength) {
        int cid = s.cid();
        Long nsBlocks = namespaces.get(s.nsid());
        if (nsBlocks == null) {
            answer(q, gen, cid, Status.field(Status.INVALID_NAMESPACE_OR_FORMAT, true), 0, null);
            return;
        }
        long slba = s.rw().slba();
        int nlb = s.rw().blockCount();
        if (slba + nlb > Math.min(nsBlocks, blocks)) {
            answer(q, gen, cid, Status.field(Status.LBA_OUT_OF_RANGE, true), 0, null);
            return;
        }
        int at = (int) slba * BLOCK;
        switch (s.opcode()) {
            case Opcode.READ -> answer(q, gen, cid, 0, 0, java.util.Arrays.copyOfRange(data, at, at + nlb * BLOCK));
            case Opcode.WRITE -> {
                System.arraycopy(out, 0, data, at, nlb * BLOCK);
                answer(q, gen, cid, 0, 0, null);
            }
            default -> answer(q, gen, cid, 0, 0, null);
        }
    }

    private void answer(SimHostQpair q, int gen, int cid, int status, long result, byte[] in) {
        q.thread().send(() -> q.deliver(gen, cid, status, result, in));
    }

    // ---- what tests do to it (any thread: sent to the controller's thread) ----

    /** Adds or removes namespace 2 and fires every held Asynchronous Event Request (namespace attribute changed). */
    public void changeNamespaces() {
        thread.send(() -> {
            if (namespaces.containsKey(2)) {
                namespaces.remove(2);
            } else {
                namespaces.put(2, blocks / 2);
            }
            List<Held> held = List.copyOf(aers);
            aers.clear();
            for (Held h : held) {
                answer(h.q, h.gen, h.cid, 0, 2 | 4 << 16, null); // notice, namespace attribute changed, log 0x04
            }
        });
    }

    /**
     * The next {@code n} I/O queue Connects are refused with Command Sequence Error, as Linux's nvmet refuses a queue
     * ID whose old queue it is still tearing down (on this controller's thread).
     */
    public void refuseIoConnects(int n) {
        ioConnectsToRefuse = n;
    }

    /** Every connection is lost and new ones are refused until {@link #revive}. */
    public void kill() {
        thread.send(() -> {
            dead = true;
            List<Map.Entry<SimHostQpair, Link>> all = List.copyOf(links.entrySet());
            links.clear();
            aers.clear();
            for (var e : all) {
                SimHostQpair q = e.getKey();
                int gen = e.getValue().gen;
                q.thread().send(() -> q.linkLost(gen, "controller killed"));
            }
        });
    }

    public void revive() {
        thread.send(() -> dead = false);
    }
}
