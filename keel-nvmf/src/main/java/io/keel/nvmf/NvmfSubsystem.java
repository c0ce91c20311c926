package io.keel.nvmf;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.rpc.Json;
import io.keel.nvmf.ctrlr.ListenAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * An NVMe-oF subsystem (SPDK's {@code spdk_nvmf_subsystem}): the discovery subsystem or an NVMe one with its
 * namespaces and allowed hosts. Owned by the application thread: only it reads or changes one.
 */
public final class NvmfSubsystem {
    public enum Type { NVME, DISCOVERY }

    public enum State { ACTIVE, DELETING, DELETED }

    /** The settings given at creation. */
    public record Options(String serialNumber, String modelNumber, long maxNamespaces, int minCntlid, int maxCntlid,
            boolean anaReporting, long dmrsl, int wzsl, boolean passthrough, boolean enableNssr) {
    }

    private final String nqn;
    private final Type type;
    private final Options options;
    private boolean allowAnyHost;
    private final Set<String> hosts = new LinkedHashSet<>();
    private final TreeMap<Long, Namespace> namespaces = new TreeMap<>();
    private final List<ListenAddress> listeners = new ArrayList<>();
    State state = State.ACTIVE;

    NvmfSubsystem(String nqn, Type type, Options options, boolean allowAnyHost) {
        this.nqn = nqn;
        this.type = type;
        this.options = options;
        this.allowAnyHost = allowAnyHost;
    }

    public String nqn() {
        return nqn;
    }

    public Type type() {
        return type;
    }

    public Options options() {
        return options;
    }

    public State state() {
        return state;
    }

    boolean anaReporting() {
        return options != null && options.anaReporting();
    }

    public boolean allowAnyHost() {
        return allowAnyHost;
    }

    void allowAnyHost(boolean allow) {
        allowAnyHost = allow;
    }

    /** Whether a host with this NQN may connect (the allow list, or any host). */
    public boolean hostAllowed(String hostNqn) {
        return allowAnyHost || hosts.contains(hostNqn);
    }

    public List<String> hosts() {
        return List.copyOf(hosts);
    }

    boolean addHost(String host) {
        return hosts.add(host);
    }

    boolean removeHost(String host) {
        return hosts.remove(host);
    }

    /** The addresses hosts may connect to this subsystem through, in the order they were added. */
    public List<ListenAddress> listeners() {
        return List.copyOf(listeners);
    }

    boolean addListener(ListenAddress a) {
        if (listeners.contains(a)) {
            return false;
        }
        return listeners.add(a);
    }

    boolean removeListener(ListenAddress a) {
        return listeners.remove(a);
    }

    public List<Namespace> namespaces() {
        return List.copyOf(namespaces.values());
    }

    public Namespace namespace(long nsid) {
        return namespaces.get(nsid);
    }

    /** The lowest free NSID, or 0 if every one up to max_namespaces is taken. */
    long freeNsid() {
        for (long id = 1; id <= options.maxNamespaces(); id++) {
            if (!namespaces.containsKey(id)) {
                return id;
            }
        }
        return 0;
    }

    void put(Namespace ns) {
        namespaces.put(ns.nsid(), ns);
    }

    Namespace remove(long nsid) {
        return namespaces.remove(nsid);
    }

    /** As {@code nvmf_get_subsystems} lists it. */
    ObjectNode describe() {
        ObjectNode o = Json.object();
        o.put("nqn", nqn);
        o.put("subtype", type == Type.NVME ? "NVMe" : "Discovery");
        ArrayNode l = o.putArray("listen_addresses");
        listeners.forEach(a -> l.add(describe(a)));
        o.put("allow_any_host", allowAnyHost);
        ArrayNode h = o.putArray("hosts");
        hosts.forEach(n -> h.addObject().put("nqn", n));
        if (type == Type.NVME) {
            o.put("serial_number", options.serialNumber());
            o.put("model_number", options.modelNumber());
            o.put("max_namespaces", options.maxNamespaces());
            o.put("passthrough", options.passthrough());
            o.put("min_cntlid", options.minCntlid());
            o.put("max_cntlid", options.maxCntlid());
            o.put("dmrsl", options.dmrsl());
            o.put("wzsl", options.wzsl());
            ArrayNode ns = o.putArray("namespaces");
            namespaces.values().forEach(n -> ns.add(n.describe()));
        }
        return o;
    }

    /** A listen address as SPDK's RPCs show it. */
    static ObjectNode describe(ListenAddress a) {
        ObjectNode o = Json.object();
        o.put("trtype", a.trtype());
        o.put("adrfam", a.adrfam());
        o.put("traddr", a.traddr());
        o.put("trsvcid", a.trsvcid());
        return o;
    }

    /** Params of the saved {@code nvmf_create_subsystem}, in SPDK's order. */
    ObjectNode createParams() {
        ObjectNode o = Json.object();
        o.put("nqn", nqn);
        o.put("allow_any_host", allowAnyHost);
        o.put("serial_number", options.serialNumber());
        o.put("model_number", options.modelNumber());
        o.put("max_namespaces", options.maxNamespaces());
        o.put("min_cntlid", options.minCntlid());
        o.put("max_cntlid", options.maxCntlid());
        o.put("ana_reporting", options.anaReporting());
        o.put("dmrsl", options.dmrsl());
        o.put("wzsl", options.wzsl());
        o.put("passthrough", options.passthrough());
        o.put("enable_nssr", options.enableNssr());
        return o;
    }

    List<Namespace> takeAllNamespaces() {
        List<Namespace> all = new ArrayList<>(namespaces.values());
        namespaces.clear();
        return all;
    }

    @Override
    public String toString() {
        return nqn;
    }
}
