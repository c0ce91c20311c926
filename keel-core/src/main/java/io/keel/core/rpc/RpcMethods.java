package io.keel.core.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The method table and the dispatcher: modules register their methods here (next to their code); a request
 * object, however it arrived (socket, config file), is validated, bound and handed to its method.
 */
public final class RpcMethods {
    private static final Logger LOG = LoggerFactory.getLogger(RpcMethods.class);

    private record Method<P>(String name, Class<P> paramType, RpcHandler<P> handler, Set<RpcState> states) {
    }

    private final Map<String, Method<?>> methods = new ConcurrentHashMap<>();
    private final List<String> order = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile RpcState state = RpcState.RUNTIME;

    /** Registers a method allowed only at runtime (after subsystem initialisation). */
    public <P> void register(String name, Class<P> paramType, RpcHandler<P> handler) {
        register(name, paramType, handler, RpcState.RUNTIME);
    }

    /** Registers a method allowed in the given states. {@code Void.class} means "takes no parameters". */
    public <P> void register(String name, Class<P> paramType, RpcHandler<P> handler, RpcState first, RpcState... more) {
        Method<P> m = new Method<>(name, paramType, handler, EnumSet.of(first, more));
        if (methods.putIfAbsent(name, m) != null) {
            throw new IllegalStateException("RPC method " + name + " registered twice");
        }
        order.add(name);
    }

    public RpcState state() {
        return state;
    }

    public void state(RpcState s) {
        state = s;
    }

    public boolean exists(String name) {
        return methods.containsKey(name);
    }

    /** Method names, most recently registered first (as SPDK lists them); only those allowed now if {@code current}. */
    public List<String> names(boolean current) {
        List<String> out = new ArrayList<>();
        for (int i = order.size() - 1; i >= 0; i--) {
            String n = order.get(i);
            if (!current || methods.get(n).states().contains(state)) {
                out.add(n);
            }
        }
        return out;
    }

    /**
     * Builds the parameter reader of {@code name} now (Jackson's introspection of its parameter record, ~100 ms for
     * the first ones), on the calling thread, so that its first call does not do it on a reactor. Unknown names are
     * ignored.
     */
    public void prepare(String name) {
        Method<?> m = methods.get(name);
        if (m != null) {
            ParamBinder.prepare(m.paramType());
        }
    }

    /** Whether {@code name} may be called in the current state. */
    public boolean allowedNow(String name) {
        Method<?> m = methods.get(name);
        return m != null && m.states().contains(state);
    }

    /**
     * Handles one parsed request value (an object, or an array for a batch). {@code reply} gets the complete
     * response exactly once, on whatever thread finished the work.
     */
    public void dispatch(JsonNode request, Consumer<JsonNode> reply) {
        if (request.isArray()) {
            dispatchBatch((ArrayNode) request, reply);
        } else {
            dispatchOne(request, reply);
        }
    }

    private void dispatchBatch(ArrayNode batch, Consumer<JsonNode> reply) {
        if (batch.isEmpty()) {
            reply.accept(error(NullNode.getInstance(), RpcException.INVALID_REQUEST, "Invalid request: empty batch"));
            return;
        }
        JsonNode[] answers = new JsonNode[batch.size()];
        java.util.concurrent.atomic.AtomicInteger left = new java.util.concurrent.atomic.AtomicInteger(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            int index = i;
            dispatchOne(batch.get(i), answer -> {
                answers[index] = answer;
                if (left.decrementAndGet() == 0) {
                    ArrayNode all = JsonNodeFactory.instance.arrayNode();
                    for (JsonNode a : answers) {
                        all.add(a);
                    }
                    reply.accept(all);
                }
            });
        }
    }

    private void dispatchOne(JsonNode req, Consumer<JsonNode> reply) {
        JsonNode id = req.isObject() && req.has("id") ? req.get("id") : NullNode.getInstance();
        if (!req.isObject()) {
            reply.accept(error(id, RpcException.INVALID_REQUEST, "Invalid request: not an object"));
            return;
        }
        if (!(id.isNull() || id.isTextual() || id.isNumber())) {
            reply.accept(error(NullNode.getInstance(), RpcException.INVALID_REQUEST, "Invalid request: bad id"));
            return;
        }
        JsonNode version = req.get("jsonrpc");
        JsonNode methodNode = req.get("method");
        boolean version2 = version != null && version.isTextual() && "2.0".equals(version.asText()); // the string, as SPDK checks
        if (!version2 || methodNode == null || !methodNode.isTextual()) {
            reply.accept(error(id, RpcException.INVALID_REQUEST, "Invalid request: needs \"jsonrpc\": \"2.0\" and a method name"));
            return;
        }
        String name = methodNode.asText();
        Method<?> m = methods.get(name);
        if (m == null) {
            LOG.info("rpc: unknown method '{}'", name);
            reply.accept(error(id, RpcException.METHOD_NOT_FOUND, "Method not found: " + name));
            return;
        }
        if (!m.states().contains(state)) {
            String msg = state == RpcState.STARTUP
                    ? "Method may only be called after framework is initialized using framework_start_init RPC."
                    : "Method may only be called before framework initialization (--wait-for-rpc).";
            reply.accept(error(id, RpcException.INVALID_STATE, msg));
            return;
        }
        invoke(m, req.get("params"), new Call(name, id, reply));
    }

    private static <P> void invoke(Method<P> m, JsonNode params, Call call) {
        try {
            P p = ParamBinder.bind(m.name(), params, m.paramType());
            m.handler().handle(p, call);
        } catch (RpcException e) {
            LOG.info("rpc {}: error {} {}", m.name(), e.code(), e.getMessage());
            call.fail(e);
        } catch (RuntimeException | AssertionError e) { // as the reactor treats a failing message: answer, go on
            LOG.error("rpc {} failed", m.name(), e);
            call.fail(RpcException.INTERNAL_ERROR, "Internal error: " + e);
        }
    }

    static ObjectNode error(JsonNode id, int code, String message) {
        ObjectNode r = Json.object();
        r.put("jsonrpc", "2.0");
        r.set("id", id);
        ObjectNode e = r.putObject("error");
        e.put("code", code);
        e.put("message", message);
        return r;
    }

    private static final class Call implements RpcCall {
        private final String method;
        private final JsonNode id;
        private final Consumer<JsonNode> reply;
        private final AtomicBoolean done = new AtomicBoolean();

        Call(String method, JsonNode id, Consumer<JsonNode> reply) {
            this.method = method;
            this.id = id;
            this.reply = reply;
        }

        @Override
        public void respond(Object result) {
            if (claim()) {
                ObjectNode r = Json.object();
                r.put("jsonrpc", "2.0");
                r.set("id", id);
                try {
                    r.set("result", Json.tree(result));
                } catch (IllegalArgumentException e) {
                    LOG.error("rpc {}: result cannot be written as JSON", method, e);
                    reply.accept(error(id, RpcException.INTERNAL_ERROR, "Internal error: result not serialisable"));
                    return;
                }
                reply.accept(r);
            }
        }

        @Override
        public void fail(int code, String message) {
            if (claim()) {
                reply.accept(error(id, code, message));
            }
        }

        private boolean claim() {
            if (done.compareAndSet(false, true)) {
                return true;
            }
            LOG.error("rpc {}: answered twice; the second answer is dropped", method);
            return false;
        }

        @Override
        public String method() {
            return method;
        }
    }
}
