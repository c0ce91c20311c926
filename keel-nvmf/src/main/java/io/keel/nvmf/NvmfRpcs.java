package io.keel.nvmf;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Errno;
import io.keel.core.rpc.Json;
import io.keel.core.rpc.RpcCall;
import io.keel.core.rpc.RpcException;
import io.keel.core.rpc.RpcMethods;
import io.keel.core.rpc.RpcState;
import io.keel.nvmf.rdma.RdmaTransportOptions;
import io.keel.rdma.Rdma;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target's management methods, with SPDK's names, parameters, defaults, answers and error codes (listeners,
 * controllers, qpairs and statistics are in {@link NvmfConnectionRpcs}).
 */
final class NvmfRpcs {
    private static final Logger LOG = LoggerFactory.getLogger(NvmfRpcs.class);
    static final long UINT16_MAX = 0xFFFF;
    static final long UINT32_MAX = 0xFFFF_FFFFL;

    record CreateTransportParams(@JsonProperty(required = true) String trtype, String tgtName, Long maxQueueDepth,
            Long maxIoQpairsPerCtrlr, Long inCapsuleDataSize, Long maxIoSize, Long ioUnitSize, Long maxAqDepth,
            Long numSharedBuffers, Long bufCacheSize, Long iobufSmallCacheSize, Long iobufLargeCacheSize,
            Boolean zcopy, Long numCqe, Long maxSrqDepth, Boolean noSrq, Boolean c2hSuccess, Boolean difInsertOrStrip,
            Long sockPriority, Long acceptorBacklog, Long abortTimeoutSec, Boolean noWrBatching, Long controlMsgNum,
            Boolean disableMappableBar0, Boolean disableAdaptiveIrq, Boolean disableShadowDoorbells,
            Long acceptorPollRate, Long ackTimeout, Long dataWrPoolSize, Boolean disableCommandPassthru, Long kas,
            Long minKato, List<String> maskedOncs, List<String> maskedFuses, Long keelQueueMemoryMb) {
    }

    record GetTransportsParams(String tgtName, String trtype) {
    }

    record CreateSubsystemParams(@JsonProperty(required = true) String nqn, String tgtName, String serialNumber,
            String modelNumber, Long maxNamespaces, Boolean allowAnyHost, Boolean anaReporting, Long minCntlid,
            Long maxCntlid, Long maxDiscardSizeKib, Long maxWriteZeroesSizeKib, Long dmrsl, Long wzsl,
            Boolean passthrough, Boolean enableNssr) {
    }

    record NqnParams(@JsonProperty(required = true) String nqn, String tgtName) {
    }

    record GetSubsystemsParams(String nqn, String tgtName) {
    }

    record NamespaceParams(Long nsid, String bdevName, String nguid, String eui64, UUID uuid, String ptplFile,
            Long anagrpid, Boolean noAutoVisible, Boolean hideMetadata) {
    }

    record AddNsParams(@JsonProperty(required = true) String nqn,
            @JsonProperty(required = true) NamespaceParams namespace, String tgtName) {
    }

    record RemoveNsParams(@JsonProperty(required = true) String nqn, @JsonProperty(required = true) Long nsid,
            String tgtName) {
    }

    record AddHostParams(@JsonProperty(required = true) String nqn, @JsonProperty(required = true) String host,
            String tgtName, String psk, String dhchapKey, String dhchapCtrlrKey) {
    }

    record RemoveHostParams(@JsonProperty(required = true) String nqn, @JsonProperty(required = true) String host,
            String tgtName, Long timeoutMs) {
    }

    record AllowAnyHostParams(@JsonProperty(required = true) String nqn,
            @JsonProperty(required = true) Boolean allowAnyHost, String tgtName) {
    }

    record MaxSubsystemsParams(@JsonProperty(required = true) Long maxSubsystems) {
    }

    private NvmfRpcs() {
    }

    /** A handler body run on the application thread (which owns the target); its RpcException is the answer. */
    @FunctionalInterface
    interface Body {
        void run();
    }

    static void onApp(KeelApp app, RpcCall call, Body body) {
        app.onAppThread(() -> {
            try {
                body.run();
            } catch (RpcException e) {
                call.fail(e);
            } catch (RuntimeException e) {
                LOG.error("rpc {} failed", call.method(), e);
                call.fail(RpcException.INTERNAL_ERROR, "Internal error: " + e);
            }
        });
    }

    static void register(KeelApp app, Target t) {
        RpcMethods m = app.methods();
        m.register("nvmf_set_config", NvmfConfig.class, (p, call) -> onApp(app, call, () -> {
            NvmfConfig next = t.config().with(p);
            String problem = next.problem();
            if (problem != null) {
                throw RpcException.invalidParams(problem);
            }
            t.config(next);
            call.respond(true);
        }), RpcState.STARTUP);
        m.register("nvmf_set_max_subsystems", MaxSubsystemsParams.class, (p, call) -> onApp(app, call, () -> {
            if (p.maxSubsystems() < 1 || p.maxSubsystems() > UINT32_MAX) {
                throw RpcException.invalidParams("max_subsystems must be between 1 and " + UINT32_MAX);
            }
            t.maxSubsystems(p.maxSubsystems());
            call.respond(true);
        }), RpcState.STARTUP);
        m.register("nvmf_create_transport", CreateTransportParams.class,
                (p, call) -> onApp(app, call, () -> createTransport(t, p, call)), RpcState.STARTUP, RpcState.RUNTIME);
        m.register("nvmf_get_transports", GetTransportsParams.class, (p, call) -> onApp(app, call, () -> {
            target(p.tgtName());
            ArrayNode out = Json.MAPPER.createArrayNode();
            if (p.trtype() != null) {
                TransportOptions o = t.transport(p.trtype());
                if (o == null) {
                    throw RpcException.errno(Errno.ENODEV, "No such device");
                }
                out.add(o.describe());
            } else {
                t.transports().forEach(o -> out.add(o.describe()));
            }
            call.respond(out);
        }));
        m.register("nvmf_create_subsystem", CreateSubsystemParams.class,
                (p, call) -> onApp(app, call, () -> createSubsystem(t, p, call)));
        m.register("nvmf_delete_subsystem", NqnParams.class, (p, call) -> onApp(app, call, () -> {
            target(p.tgtName());
            NvmfSubsystem s = t.subsystem(p.nqn());
            if (s == null || s.state() == NvmfSubsystem.State.DELETED) {
                t.find(p.nqn()); // SPDK's "not found"
            }
            t.delete(s, () -> call.respond(true)); // a second delete while one runs: already being destroyed
        }));
        m.register("nvmf_get_subsystems", GetSubsystemsParams.class, (p, call) -> onApp(app, call, () -> {
            target(p.tgtName());
            ArrayNode out = Json.MAPPER.createArrayNode();
            if (p.nqn() != null) {
                out.add(t.find(p.nqn()).describe());
            } else {
                t.subsystems().stream().filter(s -> s.state() == NvmfSubsystem.State.ACTIVE)
                        .forEach(s -> out.add(s.describe()));
            }
            call.respond(out);
        }));
        m.register("nvmf_subsystem_add_ns", AddNsParams.class,
                (p, call) -> onApp(app, call, () -> addNs(t, p, call)));
        m.register("nvmf_subsystem_remove_ns", RemoveNsParams.class, (p, call) -> onApp(app, call, () -> {
            target(p.tgtName());
            NvmfSubsystem s = t.find(p.nqn());
            if (p.nsid() < 1 || p.nsid() > UINT32_MAX) {
                throw RpcException.invalidParams("nsid must be between 1 and " + (UINT32_MAX - 1));
            }
            t.removeNamespace(s, p.nsid(), () -> call.respond(true));
        }));
        m.register("nvmf_subsystem_add_host", AddHostParams.class, (p, call) -> onApp(app, call, () -> {
            target(p.tgtName());
            NvmfSubsystem s = t.find(p.nqn());
            if (p.psk() != null) {
                throw RpcException.invalidParams("TLS (psk) is not supported by Keel yet");
            }
            if (p.dhchapKey() != null || p.dhchapCtrlrKey() != null) {
                throw RpcException.invalidParams("no such DH-HMAC-CHAP key: Keel has no keyring");
            }
            String problem = Nqn.problem(p.host());
            if (problem != null) {
                throw RpcException.internal("Internal error: invalid host NQN: " + problem);
            }
            if (!s.addHost(p.host())) {
                throw RpcException.internal("Internal error: host " + p.host() + " is already allowed in " + s.nqn());
            }
            t.hostsChanged(s, null);
            call.respond(true);
        }));
        m.register("nvmf_subsystem_remove_host", RemoveHostParams.class, (p, call) -> onApp(app, call, () -> {
            target(p.tgtName());
            NvmfSubsystem s = t.find(p.nqn());
            if (!s.removeHost(p.host())) {
                throw RpcException.internal("Internal error: host " + p.host() + " is not allowed in " + s.nqn());
            }
            t.hostsChanged(s, p.host()); // its controllers are disconnected, as SPDK does
            call.respond(true);
        }));
        m.register("nvmf_subsystem_allow_any_host", AllowAnyHostParams.class, (p, call) -> onApp(app, call, () -> {
            target(p.tgtName());
            NvmfSubsystem s = t.find(p.nqn());
            s.allowAnyHost(p.allowAnyHost());
            t.hostsChanged(s, null);
            call.respond(true);
        }));
    }

    /** SPDK's default target is the only one: another name is -32602. */
    static void target(String tgtName) {
        if (tgtName != null && !Target.NAME.equals(tgtName)) {
            throw RpcException.invalidParams("NVMf target '" + tgtName + "' not found");
        }
    }

    private static long range(String name, Long value, long dflt, long min, long max) {
        long v = value == null ? dflt : value;
        if (v < min || v > max) {
            throw RpcException.invalidParams(name + " must be between " + min + " and " + max);
        }
        return v;
    }

    private static boolean flag(Boolean b, boolean dflt) {
        return b == null ? dflt : b;
    }

    private static void createTransport(Target t, CreateTransportParams p, RpcCall call) {
        target(p.tgtName());
        String trtype = p.trtype().toUpperCase(Locale.ROOT);
        boolean rdma = trtype.equals("RDMA");
        if (!rdma && !trtype.equals("TCP")) {
            throw RpcException.invalidParams("transport type '" + p.trtype() + "' is not supported (Keel has TCP and "
                    + "RDMA)");
        }
        if (p.maskedOncs() != null && !p.maskedOncs().isEmpty() || p.maskedFuses() != null && !p.maskedFuses().isEmpty()) {
            throw RpcException.invalidParams("masked_oncs and masked_fuses are not supported by Keel yet");
        }
        TransportOptions d = rdma ? RdmaTransportOptions.DEFAULTS : TransportOptions.TCP_DEFAULTS;
        long icd = range("in_capsule_data_size", p.inCapsuleDataSize(), d.inCapsuleDataSize(), 0, UINT32_MAX);
        if (rdma && icd < RdmaTransportOptions.MIN_IN_CAPSULE_DATA_SIZE) {
            LOG.warn("nvmf_create_transport: in_capsule_data_size {} raised to {}, the least that holds 16 SGL "
                    + "descriptors", icd, RdmaTransportOptions.MIN_IN_CAPSULE_DATA_SIZE);
            icd = RdmaTransportOptions.MIN_IN_CAPSULE_DATA_SIZE;
        }
        TransportOptions o = new TransportOptions(trtype,
                (int) range("max_queue_depth", p.maxQueueDepth(), d.maxQueueDepth(), 0, UINT16_MAX),
                (int) range("max_io_qpairs_per_ctrlr", p.maxIoQpairsPerCtrlr(), d.maxIoQpairsPerCtrlr(), 0, UINT16_MAX),
                icd,
                range("max_io_size", p.maxIoSize(), d.maxIoSize(), 0, UINT32_MAX),
                range("max_aq_depth", p.maxAqDepth(), d.maxAqDepth(), 0, UINT32_MAX),
                range("iobuf_small_cache_size", p.iobufSmallCacheSize(), d.iobufSmallCacheSize(), 0, UINT32_MAX),
                range("iobuf_large_cache_size", p.iobufLargeCacheSize(), d.iobufLargeCacheSize(), 0, UINT32_MAX),
                flag(p.difInsertOrStrip(), d.difInsertOrStrip()), flag(p.zcopy(), d.zcopy()),
                flag(p.c2hSuccess(), d.c2hSuccess()),
                range("sock_priority", p.sockPriority(), d.sockPriority(), 0, UINT32_MAX),
                range("abort_timeout_sec", p.abortTimeoutSec(), d.abortTimeoutSec(), 0, UINT32_MAX),
                range("ack_timeout", p.ackTimeout(), d.ackTimeout(), 0, UINT32_MAX),
                range("data_wr_pool_size", p.dataWrPoolSize(), d.dataWrPoolSize(), 0, UINT32_MAX),
                flag(p.disableCommandPassthru(), d.disableCommandPassthru()),
                (int) range("kas", p.kas(), d.kas(), 0, UINT16_MAX),
                range("min_kato", p.minKato(), d.minKato(), 0, UINT32_MAX),
                (int) range("control_msg_num", p.controlMsgNum(), d.controlMsgNum(), 0, UINT16_MAX),
                range("acceptor_poll_rate", p.acceptorPollRate(), d.acceptorPollRate(), 0, UINT32_MAX),
                range("num_shared_buffers", p.numSharedBuffers(), d.numSharedBuffers(), 0, UINT32_MAX),
                range("keel_queue_memory_mb", p.keelQueueMemoryMb(), d.keelQueueMemoryMb(), 0, UINT32_MAX),
                rdma ? rdmaOptions(p) : null);
        String problem = o.problem();
        if (problem != null) {
            throw RpcException.invalidParams(problem);
        }
        if (rdma) {
            Rdma.Availability a = Rdma.availability();
            if (!a.usable()) {
                LOG.error("nvmf_create_transport: the RDMA transport cannot be created: {}", a.reason());
                throw RpcException.internal("Transport type 'RDMA' create failed: " + a.reason());
            }
        } else if (p.numCqe() != null || p.maxSrqDepth() != null || p.noSrq() != null || p.acceptorBacklog() != null
                || p.noWrBatching() != null) {
            LOG.info("nvmf_create_transport: RDMA's options are ignored for TCP");
        }
        if (p.disableMappableBar0() != null || p.disableAdaptiveIrq() != null || p.disableShadowDoorbells() != null
                || p.ioUnitSize() != null || p.bufCacheSize() != null) {
            LOG.info("nvmf_create_transport: options of other transports and deprecated ones are ignored for {}",
                    trtype);
        }
        t.addTransport(o);
        call.respond(true);
    }

    /** RDMA's own options; an acceptor_backlog below 1 takes the default, as SPDK's. */
    private static RdmaTransportOptions rdmaOptions(CreateTransportParams p) {
        RdmaTransportOptions d = RdmaTransportOptions.RDMA_DEFAULTS;
        int backlog = (int) range("acceptor_backlog", p.acceptorBacklog(), d.acceptorBacklog(), Integer.MIN_VALUE,
                Integer.MAX_VALUE);
        if (backlog < 1) {
            LOG.error("nvmf_create_transport: the acceptor backlog cannot be less than 1, setting it to the default "
                    + "({})", d.acceptorBacklog());
            backlog = d.acceptorBacklog();
        }
        return new RdmaTransportOptions(range("max_srq_depth", p.maxSrqDepth(), d.maxSrqDepth(), 0, UINT32_MAX),
                flag(p.noSrq(), d.noSrq()),
                (int) range("num_cqe", p.numCqe(), d.numCqe(), Integer.MIN_VALUE, Integer.MAX_VALUE), backlog,
                flag(p.noWrBatching(), d.noWrBatching()));
    }

    private static void createSubsystem(Target t, CreateSubsystemParams p, RpcCall call) {
        target(p.tgtName());
        String sn = p.serialNumber() != null ? p.serialNumber() : Target.DEFAULT_SERIAL;
        String mn = p.modelNumber() != null ? p.modelNumber() : Target.DEFAULT_MODEL;
        if (sn.length() > 20 || !printableAscii(sn)) {
            throw RpcException.invalidParams("serial_number must be at most 20 printable ASCII characters");
        }
        if (mn.isEmpty() || mn.length() > 40 || !printableAscii(mn)) {
            throw RpcException.invalidParams("model_number must be 1 to 40 printable ASCII characters");
        }
        long maxNs = range("max_namespaces", p.maxNamespaces(), 0, 0, UINT32_MAX - 1);
        if (maxNs == 0) {
            maxNs = Target.DEFAULT_MAX_NAMESPACES;
        }
        long minCntlid = range("min_cntlid", p.minCntlid(), Target.MIN_CNTLID, 0, UINT16_MAX);
        long maxCntlid = range("max_cntlid", p.maxCntlid(), Target.MAX_CNTLID, 0, UINT16_MAX);
        if (minCntlid < Target.MIN_CNTLID || maxCntlid > Target.MAX_CNTLID || minCntlid > maxCntlid) {
            throw RpcException.invalidParams("Invalid cntlid range [" + minCntlid + "-" + maxCntlid + "]");
        }
        if (p.maxDiscardSizeKib() != null && p.dmrsl() != null
                || p.maxWriteZeroesSizeKib() != null && p.wzsl() != null) {
            throw RpcException.invalidParams("dmrsl and max_discard_size_kib, wzsl and max_write_zeroes_size_kib "
                    + "are mutually exclusive");
        }
        long dmrsl = range("dmrsl", p.dmrsl(), 2097152, 0, UINT32_MAX);
        if (p.maxDiscardSizeKib() != null) {
            dmrsl = range("max_discard_size_kib", p.maxDiscardSizeKib(), 0, 0, UINT32_MAX >> 1) << 1;
        }
        long wzsl = range("wzsl", p.wzsl(), 12, 0, 255);
        if (p.maxWriteZeroesSizeKib() != null) {
            long kib = p.maxWriteZeroesSizeKib();
            if (kib == 0) {
                wzsl = 0;
            } else if (kib >= 8 && Long.bitCount(kib) == 1) {
                wzsl = 63 - Long.numberOfLeadingZeros(kib >> 2);
            } else {
                throw RpcException.invalidParams("Invalid max_write_zeroes_size_kib " + kib);
            }
        }
        if (flag(p.passthrough(), false)) {
            throw RpcException.invalidParams("passthrough needs an NVMe bdev underneath, which Keel does not have");
        }
        if (flag(p.enableNssr(), false)) {
            throw RpcException.invalidParams("enable_nssr: NVM subsystem reset is not supported by Keel yet");
        }
        NvmfSubsystem.Options o = new NvmfSubsystem.Options(sn, mn, maxNs, (int) minCntlid, (int) maxCntlid,
                flag(p.anaReporting(), false), dmrsl, (int) wzsl, false, false);
        t.create(p.nqn(), o, flag(p.allowAnyHost(), false));
        call.respond(true);
    }

    private static boolean printableAscii(String s) {
        return s.chars().allMatch(c -> c >= 0x20 && c <= 0x7e);
    }

    private static void addNs(Target t, AddNsParams p, RpcCall call) {
        target(p.tgtName());
        NvmfSubsystem s = t.find(p.nqn());
        NamespaceParams n = p.namespace();
        if (n.bdevName() == null) {
            throw RpcException.invalidParams("missing required parameter 'namespace.bdev_name'");
        }
        long nsid = range("nsid", n.nsid(), 0, 0, UINT32_MAX - 1);
        if (n.ptplFile() != null) {
            throw RpcException.invalidParams("ptpl_file: persistent reservations are not supported by Keel yet");
        }
        if (flag(n.hideMetadata(), false)) {
            throw RpcException.invalidParams("hide_metadata: Keel's bdevs have no metadata");
        }
        byte[] nguid = n.nguid() == null ? null : hex("nguid", n.nguid(), 16);
        byte[] eui64 = n.eui64() == null ? null : hex("eui64", n.eui64(), 8);
        Long anagrpid = n.anagrpid() == null ? null : range("anagrpid", n.anagrpid(), 0, 0, UINT32_MAX);
        UUID uuid = n.uuid() != null && (n.uuid().getMostSignificantBits() != 0 || n.uuid().getLeastSignificantBits() != 0)
                ? n.uuid() : null;
        t.addNamespace(s, new Target.NsRequest(nsid, n.bdevName(), nguid, eui64, uuid, anagrpid,
                flag(n.noAutoVisible(), false)), call::respond);
    }

    private static byte[] hex(String name, String value, int bytes) {
        if (value.length() != bytes * 2) {
            throw RpcException.invalidParams("Invalid " + name);
        }
        try {
            return HexFormat.of().parseHex(value);
        } catch (IllegalArgumentException e) {
            throw RpcException.invalidParams("Invalid " + name);
        }
    }
}
