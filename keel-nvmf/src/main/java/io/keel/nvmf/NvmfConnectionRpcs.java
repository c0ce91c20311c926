package io.keel.nvmf;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Json;
import io.keel.core.rpc.RpcException;
import io.keel.core.rpc.RpcMethods;
import io.keel.nvmf.ctrlr.Controller;
import io.keel.nvmf.ctrlr.ListenAddress;
import io.keel.nvmf.transport.QpairRegistry;
import io.keel.nvmf.transport.Transport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The target's connection methods with SPDK's names and shapes: listeners (nvmf_subsystem_add_listener,
 * remove_listener, get_listeners), controllers and qpairs of a subsystem, and nvmf_get_stats with Keel's pool
 * counters in the TCP transport's entry.
 */
final class NvmfConnectionRpcs {
    /** SPDK reports its tick rate; Keel's ticks are nanoseconds. */
    static final long TICK_RATE = 1_000_000_000L;

    record ListenAddressParams(@JsonProperty(required = true) String trtype, String adrfam,
            @JsonProperty(required = true) String traddr, String trsvcid) {
    }

    record ListenerParams(@JsonProperty(required = true) String nqn, String tgtName,
            @JsonProperty(required = true) ListenAddressParams listenAddress, Boolean secureChannel, String anaState,
            String sockImpl, Long numaId) {
    }

    record RemoveListenerParams(@JsonProperty(required = true) String nqn, String tgtName,
            @JsonProperty(required = true) ListenAddressParams listenAddress) {
    }

    record StatsParams(String tgtName) {
    }

    private NvmfConnectionRpcs() {
    }

    static void register(KeelApp app, Target t) {
        RpcMethods m = app.methods();
        m.register("nvmf_subsystem_add_listener", ListenerParams.class, (p, call) -> NvmfRpcs.onApp(app, call, () -> {
            NvmfRpcs.target(p.tgtName());
            NvmfSubsystem s = t.find(p.nqn());
            if (Boolean.TRUE.equals(p.secureChannel())) {
                throw RpcException.invalidParams("secure_channel (TLS) is not supported by Keel yet");
            }
            if (p.anaState() != null && !p.anaState().equals("optimized")) {
                throw RpcException.invalidParams("ana_state: ANA reporting is not supported by Keel yet");
            }
            if (p.sockImpl() != null && !p.sockImpl().equals("posix")) {
                throw RpcException.invalidParams("sock_impl '" + p.sockImpl() + "' is not available (Keel: posix)");
            }
            t.addListener(s, address(p.listenAddress()));
            call.respond(true);
        }));
        m.register("nvmf_subsystem_remove_listener", RemoveListenerParams.class,
                (p, call) -> NvmfRpcs.onApp(app, call, () -> {
                    NvmfRpcs.target(p.tgtName());
                    t.removeListener(t.find(p.nqn()), address(p.listenAddress()));
                    call.respond(true);
                }));
        m.register("nvmf_subsystem_get_listeners", NvmfRpcs.NqnParams.class,
                (p, call) -> NvmfRpcs.onApp(app, call, () -> {
                    NvmfRpcs.target(p.tgtName());
                    ArrayNode out = Json.MAPPER.createArrayNode();
                    for (ListenAddress a : t.find(p.nqn()).listeners()) {
                        out.addObject().set("address", NvmfSubsystem.describe(a));
                    }
                    call.respond(out);
                }));
        m.register("nvmf_subsystem_get_controllers", NvmfRpcs.NqnParams.class,
                (p, call) -> NvmfRpcs.onApp(app, call, () -> {
                    NvmfRpcs.target(p.tgtName());
                    NvmfSubsystem s = t.find(p.nqn());
                    ArrayNode out = Json.MAPPER.createArrayNode();
                    for (Controller c : t.controllers().controllers(s.nqn())) {
                        ObjectNode o = out.addObject();
                        o.put("cntlid", c.cntlid());
                        o.put("cntrltype", c.discovery() ? "discovery" : "io");
                        o.put("hostnqn", c.hostnqn());
                        o.put("hostid", c.hostId().toString());
                        o.put("num_io_qpairs", t.qpairs().qpairsOf(c).stream().filter(q -> q.qid() > 0).count());
                    }
                    call.respond(out);
                }));
        m.register("nvmf_subsystem_get_qpairs", NvmfRpcs.NqnParams.class,
                (p, call) -> NvmfRpcs.onApp(app, call, () -> {
                    NvmfRpcs.target(p.tgtName());
                    NvmfSubsystem s = t.find(p.nqn());
                    ArrayNode out = Json.MAPPER.createArrayNode();
                    for (Controller c : t.controllers().controllers(s.nqn())) {
                        for (QpairRegistry.QpairInfo q : t.qpairs().qpairsOf(c)) {
                            ObjectNode o = out.addObject();
                            o.put("cntlid", c.cntlid());
                            o.put("qid", q.qid());
                            o.put("state", "enabled");
                            o.put("thread", q.thread());
                            o.put("hostnqn", c.hostnqn());
                            o.set("listen_address", NvmfSubsystem.describe(q.listenAddress()));
                            o.set("peer_address", NvmfSubsystem.describe(q.peerAddress()));
                        }
                    }
                    call.respond(out);
                }));
        m.register("nvmf_get_stats", StatsParams.class, (p, call) -> NvmfRpcs.onApp(app, call, () -> {
            NvmfRpcs.target(p.tgtName());
            gatherStats(t.runningTransports(), 0, new ArrayList<>(), all -> call.respond(stats(all)));
        }));
    }

    /** Each transport's poll-group statistics, one transport after the other (application thread). */
    private static void gatherStats(List<Transport> transports, int next, List<Transport.PollGroupStats> into,
            Consumer<List<Transport.PollGroupStats>> done) {
        if (next == transports.size()) {
            done.accept(into);
            return;
        }
        transports.get(next).stats(groups -> {
            into.addAll(groups);
            gatherStats(transports, next + 1, into, done);
        });
    }

    /**
     * SPDK's nvmf_get_stats answer: one entry per poll group (by name, in order of first appearance) with its
     * counters summed over the transports and each transport's entry in its "transports" array.
     */
    private static ObjectNode stats(List<Transport.PollGroupStats> groups) {
        ObjectNode o = Json.object();
        o.put("tick_rate", TICK_RATE);
        ArrayNode pgs = o.putArray("poll_groups");
        Map<String, ObjectNode> byName = new LinkedHashMap<>();
        for (Transport.PollGroupStats g : groups) {
            ObjectNode pg = byName.get(g.name());
            if (pg == null) {
                pg = pgs.addObject();
                pg.put("name", g.name());
                for (String f : List.of("admin_qpairs", "io_qpairs", "current_admin_qpairs", "current_io_qpairs",
                        "current_unassociated_qpairs", "pending_bdev_io", "completed_nvme_io")) {
                    pg.put(f, 0L);
                }
                pg.putArray("transports");
                byName.put(g.name(), pg);
            }
            add(pg, "admin_qpairs", g.adminQpairs());
            add(pg, "io_qpairs", g.ioQpairs());
            add(pg, "current_admin_qpairs", g.currentAdminQpairs());
            add(pg, "current_io_qpairs", g.currentIoQpairs());
            add(pg, "current_unassociated_qpairs", g.currentUnassociatedQpairs());
            add(pg, "pending_bdev_io", g.pendingBdevIo());
            add(pg, "completed_nvme_io", g.completedNvmeIo());
            ((ArrayNode) pg.get("transports")).add(g.transport());
        }
        return o;
    }

    private static void add(ObjectNode o, String field, long value) {
        o.put(field, o.get(field).asLong() + value);
    }

    /** SPDK's listen address with its case rules: trtype and adrfam case-insensitive, IPv4 by default. */
    static ListenAddress address(ListenAddressParams p) {
        String trtype = p.trtype().toUpperCase(Locale.ROOT);
        String adrfam = p.adrfam() == null ? "IPv4" : switch (p.adrfam().toUpperCase(Locale.ROOT)) {
            case "IPV4" -> "IPv4";
            case "IPV6" -> "IPv6";
            case "IB" -> "IB";
            case "FC" -> "FC";
            default -> throw RpcException.invalidParams("Invalid adrfam '" + p.adrfam() + "'");
        };
        if (p.trsvcid() == null || p.trsvcid().isEmpty()) {
            throw RpcException.invalidParams("trsvcid is required for " + trtype);
        }
        try {
            int port = Integer.parseInt(p.trsvcid());
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw RpcException.invalidParams("Invalid trsvcid '" + p.trsvcid() + "'");
        }
        return new ListenAddress(trtype, adrfam, p.traddr(), p.trsvcid());
    }
}
