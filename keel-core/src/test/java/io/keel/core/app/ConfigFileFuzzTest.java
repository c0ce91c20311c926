package io.keel.core.app;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import io.keel.core.rpc.RpcMethods;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Coverage-guided fuzzing of the SPDK JSON config loader: arbitrary bytes as the config file. Reading either
 * refuses the file with {@link UncheckedIOException} (not JSON) or {@link IllegalArgumentException} (not a
 * config), or gives entries that each name a method; replaying them calls the methods in file order, one at a
 * time, stops at the first error and reports it (naming the method) exactly once, or reports success once after
 * the last.
 */
class ConfigFileFuzzTest {
    /** The methods the replay knows (others are "Method not found"); each takes any object as params. */
    private static final Set<String> KNOWN = Set.of("bdev_malloc_create", "iobuf_set_options", "framework_set_scheduler");
    private static final Path FILE = tempFile();

    private static Path tempFile() {
        try {
            Path p = Files.createTempFile("keel-config-fuzz", ".json");
            p.toFile().deleteOnExit();
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest
    void load(byte[] file) throws IOException {
        Files.write(FILE, file);
        List<ConfigEntry> entries;
        try {
            entries = ConfigFile.read(FILE);
        } catch (UncheckedIOException | IllegalArgumentException refused) {
            check(refused.getMessage() != null, "refused without a reason");
            return;
        }
        entries.forEach(e -> check(e.method() != null, "entry without a method"));

        RpcMethods methods = new RpcMethods();
        List<ConfigEntry> called = new ArrayList<>();
        for (String name : KNOWN) {
            methods.register(name, JsonNode.class, (params, call) -> {
                called.add(new ConfigEntry(name, params));
                call.respond(true);
            });
        }
        List<String> outcomes = new ArrayList<>();
        ConfigFile.apply(methods, entries, Runnable::run, err -> outcomes.add(String.valueOf(err)));

        check(outcomes.size() == 1, "replay reported " + outcomes);
        int n = called.size();
        check(n <= entries.size(), "more calls than entries");
        for (int i = 0; i < n; i++) {
            ConfigEntry e = entries.get(i);
            check(e.method().equals(called.get(i).method()) && bindsTo(e.params(), called.get(i).params()),
                    "call " + i + " was " + called.get(i) + " for " + e);
        }
        if (n == entries.size()) {
            check(outcomes.getFirst().equals("null"), "all entries ran but the replay failed: " + outcomes);
        } else {
            check(outcomes.getFirst().startsWith(entries.get(n).method() + " failed: "),
                    "stopped at entry " + n + " (" + entries.get(n).method() + ") with " + outcomes);
        }
    }

    /** A handler taking JsonNode gets the entry's params object, or an empty object when there are none. */
    private static boolean bindsTo(JsonNode params, JsonNode got) {
        return params == null || params.isNull() ? got.isObject() && got.isEmpty() : params.equals(got);
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
