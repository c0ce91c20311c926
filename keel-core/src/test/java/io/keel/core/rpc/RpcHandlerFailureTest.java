package io.keel.core.rpc;

import static io.keel.core.rpc.TestMethods.request;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whatever a handler does wrong, its caller gets one answer and the server goes on: a thrown RpcException is
 * answered with its code, a bug (RuntimeException, failed assertion) with -32603, a second completion is
 * dropped, a result that cannot be written as JSON is -32603.
 */
class RpcHandlerFailureTest {
    @TempDir
    Path dir;
    private RpcTestServer server;
    private UnixRpcClient client;

    /** A result Jackson cannot write. */
    static final class Unwritable {
        public String getValue() {
            throw new IllegalStateException("cannot read me");
        }
    }

    @BeforeEach
    void start() {
        RpcMethods methods = TestMethods.standard();
        methods.register("throws_errno", Void.class, (p, call) -> {
            throw RpcException.errno(Errno.ENODEV, "No such device");
        });
        methods.register("throws_bug", Void.class, (p, call) -> {
            throw new IllegalStateException("a bug in a module");
        });
        methods.register("fails_assertion", Void.class, (p, call) -> {
            throw new AssertionError("a broken invariant in a module");
        });
        methods.register("answers_twice", Void.class, (p, call) -> {
            call.respond("first");
            call.respond("second");
            call.fail(RpcException.INTERNAL_ERROR, "third");
        });
        methods.register("throws_after_answering", Void.class, (p, call) -> {
            call.respond("answered");
            throw new IllegalStateException("too late to matter");
        });
        methods.register("unwritable_result", Void.class, (p, call) -> call.respond(new Unwritable()));
        methods.register("null_result", Void.class, (p, call) -> call.respond(null));
        server = RpcTestServer.start(methods, dir.resolve("keel.sock"));
        client = server.connect();
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        server.close();
    }

    private void assertStillServing() throws Exception {
        assertThat(client.call(request("next", "ping", null)).get("result").asText()).isEqualTo("pong");
        try (UnixRpcClient other = server.connect()) {
            assertThat(other.call(request("other", "ping", null)).get("result").asText()).isEqualTo("pong");
        }
    }

    @Test
    void aThrownRpcExceptionGivesItsCodeAndMessage() throws Exception {
        JsonNode answer = client.call(request(5, "throws_errno", null));

        assertThat(answer.get("id").asInt()).isEqualTo(5);
        assertThat(answer.get("error").get("code").asInt()).isEqualTo(-19);
        assertThat(answer.get("error").get("message").asText()).isEqualTo("No such device");
        assertStillServing();
    }

    @Test
    void aThrownRuntimeExceptionIsAnInternalErrorAndTheServerGoesOn() throws Exception {
        JsonNode answer = client.call(request(6, "throws_bug", null));

        assertThat(answer.get("id").asInt()).isEqualTo(6);
        assertThat(answer.get("error").get("code").asInt()).isEqualTo(RpcException.INTERNAL_ERROR);
        assertStillServing();
    }

    @Test
    void aFailedAssertionInAHandlerIsAnInternalErrorNotAHungCall() throws Exception {
        JsonNode answer = client.call(request(7, "fails_assertion", null));

        assertThat(answer.get("id").asInt()).isEqualTo(7);
        assertThat(answer.get("error").get("code").asInt()).isEqualTo(RpcException.INTERNAL_ERROR);
        assertStillServing();
    }

    @Test
    void onlyTheFirstCompletionOfACallIsAnswered() throws Exception {
        client.send(request(9, "answers_twice", null) + request(10, "throws_after_answering", null)
                + request(11, "ping", null));

        JsonNode first = client.readAnswer();
        JsonNode second = client.readAnswer();
        JsonNode third = client.readAnswer();

        assertThat(first.get("id").asInt()).isEqualTo(9);
        assertThat(first.get("result").asText()).isEqualTo("first");
        assertThat(second.get("id").asInt()).isEqualTo(10);
        assertThat(second.get("result").asText()).isEqualTo("answered");
        assertThat(third.get("id").asInt()).isEqualTo(11);
    }

    @Test
    void aResultThatCannotBeWrittenAsJsonIsAnInternalError() throws Exception {
        JsonNode answer = client.call(request(12, "unwritable_result", null));

        assertThat(answer.get("id").asInt()).isEqualTo(12);
        assertThat(answer.get("error").get("code").asInt()).isEqualTo(RpcException.INTERNAL_ERROR);
        assertStillServing();
    }

    @Test
    void aNullResultIsWrittenAsResultNull() throws Exception {
        JsonNode answer = client.call(request(13, "null_result", null));

        assertThat(answer.has("result")).isTrue();
        assertThat(answer.get("result").isNull()).isTrue();
        assertThat(answer.has("error")).isFalse();
    }
}
