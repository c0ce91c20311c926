package io.keel.vhost;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Errno;
import io.keel.core.rpc.Json;
import io.keel.core.rpc.RpcCall;
import io.keel.core.rpc.RpcException;
import io.keel.core.rpc.RpcMethods;
import io.keel.core.sys.Libc;
import io.keel.vhost.blk.BlkController;
import java.util.List;

/**
 * The vhost methods with SPDK's names, parameters, defaults and answers. SPDK answers their errors with code
 * -32602 and the errno's text ("File exists", "No such device", "Invalid argument").
 */
final class VhostRpcs {
    static final long UINT32_MAX = 0xFFFF_FFFFL;

    record CreateBlkParams(@JsonProperty(required = true) String ctrlr, @JsonProperty(required = true) String devName,
            String cpumask, Boolean readonly, Boolean packedRing, String transport) {
    }

    record CtrlrParams(@JsonProperty(required = true) String ctrlr) {
    }

    record GetControllersParams(String name) {
    }

    record CoalescingParams(@JsonProperty(required = true) String ctrlr,
            @JsonProperty(required = true) Long delayBaseUs, @JsonProperty(required = true) Long iopsThreshold) {
    }

    private VhostRpcs() {
    }

    private static RpcException errno(int negErrno) {
        return new RpcException(RpcException.INVALID_PARAMS, Libc.strerror(-negErrno));
    }

    static void register(KeelApp app, VhostTarget t) {
        RpcMethods m = app.methods();
        m.register("vhost_create_blk_controller", CreateBlkParams.class, (p, call) -> app.onAppThread(() -> {
            if (Boolean.TRUE.equals(p.packedRing())) {
                call.fail(RpcException.INVALID_PARAMS,
                        "packed_ring: Keel's vhost serves split virtqueues only (packed rings are not implemented)");
                return;
            }
            if (p.transport() != null && !p.transport().equals("vhost_user_blk")) {
                call.fail(errno(-Errno.EINVAL));
                return;
            }
            t.createBlk(p.ctrlr(), p.devName(), Boolean.TRUE.equals(p.readonly()), p.cpumask(), rc -> {
                if (rc == 0) {
                    call.respond(true);
                } else {
                    call.fail(errno(rc));
                }
            });
        }));
        m.register("vhost_delete_controller", CtrlrParams.class, (p, call) -> app.onAppThread(() -> {
            BlkController c = t.controller(p.ctrlr());
            if (c == null) {
                call.fail(errno(-Errno.ENODEV));
                return;
            }
            t.delete(c, false, rc -> { // a second delete while one runs hears with it
                if (rc == 0) {
                    call.respond(true);
                } else {
                    call.fail(errno(rc)); // -EBUSY: a running VM uses it (the controller's log says which session)
                }
            });
        }));
        m.register("vhost_get_controllers", GetControllersParams.class, (p, call) -> app.onAppThread(() -> {
            List<BlkController> list;
            if (p.name() != null) {
                BlkController c = t.controller(p.name());
                if (c == null || c.state() == BlkController.State.DELETED) {
                    call.fail(errno(-Errno.ENODEV));
                    return;
                }
                list = List.of(c);
            } else {
                list = t.controllers();
            }
            describeAll(app, list, call);
        }));
        m.register("vhost_controller_set_coalescing", CoalescingParams.class, (p, call) -> app.onAppThread(() -> {
            BlkController c = t.controller(p.ctrlr());
            if (c == null) {
                call.fail(errno(-Errno.ENODEV));
                return;
            }
            if (p.delayBaseUs() < 0 || p.delayBaseUs() > UINT32_MAX / 1000 || p.iopsThreshold() <= 0
                    || p.iopsThreshold() > UINT32_MAX) {
                call.fail(errno(-Errno.EINVAL));
                return;
            }
            c.coalescing(p.delayBaseUs().intValue(), (int) Math.min(Integer.MAX_VALUE, p.iopsThreshold()));
            call.respond(true);
        }));
    }

    /** Each controller describes itself on its thread; the answer keeps the order of {@code list}. */
    private static void describeAll(KeelApp app, List<BlkController> list, RpcCall call) {
        ObjectNode[] entries = new ObjectNode[list.size()];
        int[] left = {list.size()};
        if (list.isEmpty()) {
            call.respond(Json.MAPPER.createArrayNode());
            return;
        }
        for (int i = 0; i < list.size(); i++) {
            int at = i;
            list.get(i).describe(o -> app.onAppThread(() -> {
                entries[at] = o;
                if (--left[0] == 0) {
                    ArrayNode out = Json.MAPPER.createArrayNode();
                    for (ObjectNode e : entries) {
                        out.add(e);
                    }
                    call.respond(out);
                }
            }));
        }
    }
}
