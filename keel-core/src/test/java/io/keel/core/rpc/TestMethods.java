package io.keel.core.rpc;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.thread.PollerFn;
import java.util.function.Consumer;

/** Small methods the RPC tests call. Parameter records are snake_case on the wire, as SPDK's are. */
final class TestMethods {
    /** echo: answers its params. {@code text} is required; {@code times} defaults to 1. */
    record EchoParams(@JsonProperty(required = true) String text, Integer times, Boolean shout) {
    }

    record Echoed(String text, int times) {
    }

    /** add: {@code first_term + second_term}, both required ints. */
    record AddParams(@JsonProperty(required = true) int firstTerm, @JsonProperty(required = true) int secondTerm) {
    }

    /** later: answers {@code value} after {@code delay_ms}, from another lightweight thread. */
    record LaterParams(@JsonProperty(required = true) String value, @JsonProperty(required = true) int delayMs) {
    }

    private TestMethods() {
    }

    /**
     * Registers "later", an asynchronous method: the handler returns at once, and {@code worker} completes the
     * call when a one-shot timer fires. {@code completing} hears each value just before its call is completed.
     */
    static void registerLater(RpcMethods m, KeelThread worker, Consumer<String> completing) {
        m.register("later", LaterParams.class, (p, call) -> worker.send(() -> after(p.delayMs(), () -> {
            completing.accept(p.value());
            call.respond(p.value());
        })));
    }

    /** Runs {@code r} on the calling lightweight thread after {@code ms} milliseconds, once. */
    static void after(int ms, Runnable r) {
        if (ms <= 0) {
            r.run();
            return;
        }
        Poller[] self = new Poller[1];
        self[0] = KeelThread.current().registerPoller("later", () -> {
            self[0].unregister();
            r.run();
            return PollerFn.BUSY;
        }, ms * 1000L);
    }

    /** A method table with echo, add and ping (no params), all allowed at runtime. */
    static RpcMethods standard() {
        RpcMethods m = new RpcMethods();
        m.register("echo", EchoParams.class, (p, call) -> {
            String text = Boolean.TRUE.equals(p.shout()) ? p.text().toUpperCase() : p.text();
            call.respond(new Echoed(text, p.times() == null ? 1 : p.times()));
        });
        m.register("add", AddParams.class, (p, call) -> call.respond(p.firstTerm() + p.secondTerm()));
        m.register("ping", Void.class, (p, call) -> call.respond("pong"));
        return m;
    }

    static String request(Object id, String method, String paramsJson) {
        String idPart = id == null ? "" : ",\"id\":" + Json.write(id);
        String paramsPart = paramsJson == null ? "" : ",\"params\":" + paramsJson;
        return "{\"jsonrpc\":\"2.0\",\"method\":\"" + method + "\"" + paramsPart + idPart + "}";
    }
}
