package io.keel.core.rpc;

import static io.keel.core.rpc.TestMethods.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fifty clients connect at once and each makes several calls, some answered at once and some later from
 * another reactor: every client gets exactly its own answers, with the right ids and results, and once they
 * have all gone the server holds no connection.
 */
class RpcConcurrentClientsTest {
    private static final int CLIENTS = 50;
    private static final int CALLS = 6;

    @TempDir
    Path dir;

    @Test
    void fiftyConcurrentClientsEachGetTheirOwnCorrectAnswers() throws Exception {
        RpcMethods methods = TestMethods.standard();
        try (RpcTestServer server = RpcTestServer.start(methods, dir.resolve("keel.sock"), RpcServer.DEFAULT_MAX_REQUEST_BYTES, CpuMask.of(0, 1));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            KeelThread worker = server.runtime.createThread("worker", CpuMask.of(1));
            TestMethods.registerLater(methods, worker, v -> { });
            CountDownLatch allConnected = new CountDownLatch(CLIENTS);
            List<Future<Integer>> results = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int me = c;
                results.add(clients.submit(() -> {
                    try (UnixRpcClient client = server.connect()) {
                        allConnected.countDown();
                        allConnected.await(5, TimeUnit.SECONDS);
                        for (int i = 0; i < CALLS; i++) {
                            String id = me + "-" + i;
                            if (i % 2 == 0) {
                                JsonNode a = client.call(request(id, "add", "{\"first_term\":" + me + ",\"second_term\":" + i + "}"));
                                assertThat(a.get("id").asText()).isEqualTo(id);
                                assertThat(a.get("result").asInt()).isEqualTo(me + i);
                            } else {
                                JsonNode a = client.call(request(id, "later", "{\"value\":\"" + id + "\",\"delay_ms\":" + (i % 3) + "}"));
                                assertThat(a.get("id").asText()).isEqualTo(id);
                                assertThat(a.get("result").asText()).isEqualTo(id);
                            }
                        }
                        return CALLS;
                    }
                }));
            }

            int answered = 0;
            for (Future<Integer> f : results) {
                answered += f.get(20, TimeUnit.SECONDS);
            }

            assertThat(answered).isEqualTo(CLIENTS * CALLS);
            await().atMost(Duration.ofSeconds(5)).until(() -> server.connectionCount() == 0);
        }
    }
}
