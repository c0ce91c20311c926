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
import io.keel.nvmf.tcp.TcpPollGroupStats;
import io.keel.nvmf.tcp.TcpTransport;
import java.util.List;
import java.util.Locale;

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
                        o.put("num_io_qpairs", qpairs(t, c).stream().filter(q -> q.qid() > 0).count());
                    }
                    call.respond(out);
                }));
        m.register("nvmf_subsystem_get_qpairs", NvmfRpcs.NqnParams.class,
                (p, call) -> NvmfRpcs.onApp(app, call, () -> {
                    NvmfRpcs.target(p.tgtName());
                    NvmfSubsystem s = t.find(p.nqn());
                    ArrayNode out = Json.MAPPER.createArrayNode();
                    for (Controller c : t.controllers().controllers(s.nqn())) {
                        for (TcpTransport.QpairInfo q : qpairs(t, c)) {
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
            if (t.tcp() == null) {
                call.respond(stats(List.of()));
                return;
            }
            t.tcp().stats(groups -> call.respond(stats(groups)));
        }));
    }

    private static List<TcpTransport.QpairInfo> qpairs(Target t, Controller c) {
        return t.tcp() == null ? List.of() : t.tcp().qpairsOf(c);
    }

    private static ObjectNode stats(List<TcpPollGroupStats> groups) {
        ObjectNode o = Json.object();
        o.put("tick_rate", TICK_RATE);
        ArrayNode pgs = o.putArray("poll_groups");
        for (TcpPollGroupStats g : groups) {
            ObjectNode pg = pgs.addObject();
            pg.put("name", g.name());
            pg.put("admin_qpairs", g.adminQpairs());
            pg.put("io_qpairs", g.ioQpairs());
            pg.put("current_admin_qpairs", g.currentAdminQpairs());
            pg.put("current_io_qpairs", g.currentIoQpairs());
            pg.put("current_unassociated_qpairs", g.currentUnassociatedQpairs());
            pg.put("pending_bdev_io", g.pendingBdevIo());
            pg.put("completed_nvme_io", g.completedNvmeIo());
            ObjectNode tcp = pg.putArray("transports").addObject();
            tcp.put("trtype", "TCP");
            // Keel's own counters (SPDK's TCP transport reports none; DESIGN S3)
            tcp.put("pending_data_buffer", g.pendingDataBuffer());
            tcp.put("requests_in_use", g.requestsInUse());
            tcp.put("data_buffers_in_use", g.dataBuffersInUse());
            tcp.put("data_buffer_pool_size", g.dataBufferLimit());
            tcp.put("peak_data_buffers_in_use", g.peakDataBuffersInUse());
            tcp.put("data_buffer_waits", g.dataBufferWaits());
            tcp.put("socket_reads", g.socketReads());
            tcp.put("socket_writes", g.socketWrites());
            tcp.put("queue_memory_in_use", g.queueMemoryInUse());
            tcp.put("queue_memory_kept", g.queueMemoryKept());
            tcp.put("queue_memory_limit", g.queueMemoryLimit());
            tcp.put("peak_queue_memory_in_use", g.queueMemoryPeak());
            tcp.put("queue_memory_refusals", g.queueMemoryRefusals());
            tcp.put("queue_memory_allocations", g.queueMemoryAllocations());
        }
        return o;
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
