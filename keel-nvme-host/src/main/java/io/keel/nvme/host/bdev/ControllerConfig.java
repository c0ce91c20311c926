package io.keel.nvme.host.bdev;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.rpc.Json;
import io.keel.nvme.host.ControllerOptions;
import io.keel.nvme.host.HostTransport;
import io.keel.nvme.host.TransportId;

/**
 * What one attach asked for, resolved: the name, where (transport ID), how the host connects (host NQN and ID,
 * digests, KATO, queues, bounds), the reconnect policy and the multipath mode; and how {@code save_config}
 * writes it back.
 */
record ControllerConfig(String name, TransportId trid, HostTransport transport, ControllerOptions hostOptions,
        ReconnectPolicy policy, String multipath, long fabricsConnectTimeoutUs, String hostaddr, String hostsvcid,
        boolean prchkReftag, boolean prchkGuard, int numIoQueues) {

    /** The same, at another address (a failover address of the path). */
    ControllerConfig withTrid(TransportId t) {
        return new ControllerConfig(name, t, transport, hostOptions, policy, multipath, fabricsConnectTimeoutUs,
                hostaddr, hostsvcid, prchkReftag, prchkGuard, numIoQueues);
    }

    /** Whether this path matches {@code bdev_nvme_detach_controller}'s filters (null: any). */
    boolean matches(DetachParams f) {
        return eq(f.trtype(), trid.trtype()) && eq(f.traddr(), trid.traddr()) && eq(f.adrfam(), trid.adrfam())
                && eq(f.trsvcid(), Integer.toString(trid.trsvcid())) && eq(f.subnqn(), trid.subnqn())
                && eq(f.hostaddr(), hostaddr == null ? "" : hostaddr)
                && eq(f.hostsvcid(), hostsvcid == null ? "" : hostsvcid);
    }

    private static boolean eq(String filter, String value) {
        return filter == null || filter.equalsIgnoreCase(value);
    }

    /** The transport ID as SPDK reports it ({@code trid}). */
    ObjectNode tridJson() {
        return tridJson(trid);
    }

    static ObjectNode tridJson(TransportId trid) {
        ObjectNode t = Json.object();
        t.put("trtype", trid.trtype().toUpperCase(java.util.Locale.ROOT));
        t.put("adrfam", trid.adrfam().equalsIgnoreCase("ipv6") ? "IPv6" : "IPv4");
        t.put("traddr", trid.traddr());
        t.put("trsvcid", Integer.toString(trid.trsvcid()));
        t.put("subnqn", trid.subnqn());
        return t;
    }

    /** The {@code bdev_nvme_attach_controller} call that makes this path again. */
    ObjectNode saveParams(NvmeOptions.MultipathOpts mp) {
        ObjectNode p = Json.object();
        p.put("name", name);
        p.setAll(tridJson());
        p.put("prchk_reftag", prchkReftag);
        p.put("prchk_guard", prchkGuard);
        p.put("ctrlr_loss_timeout_sec", policy.ctrlrLossTimeoutSec());
        p.put("reconnect_delay_sec", policy.reconnectDelaySec());
        p.put("fast_io_fail_timeout_sec", policy.fastIoFailTimeoutSec());
        p.put("hostnqn", hostOptions.hostNqn());
        if (hostaddr != null) {
            p.put("hostaddr", hostaddr);
        }
        if (hostsvcid != null) {
            p.put("hostsvcid", hostsvcid);
        }
        p.put("hdgst", hostOptions.headerDigest());
        p.put("ddgst", hostOptions.dataDigest());
        p.put("multipath", multipath);
        p.put("fabrics_connect_timeout_us", fabricsConnectTimeoutUs);
        p.put("num_io_queues", numIoQueues);
        p.set("multipath_opts", Json.tree(mp));
        return p;
    }
}
