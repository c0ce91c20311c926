package io.keel.app;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * What {@code keel start} serves with no config: a 1 GiB malloc bdev exported as {@link #NQN} over NVMe/TCP on
 * 127.0.0.1:4420 to any host, discovery on the same port. It is an ordinary SPDK JSON config
 * ({@code default-config.json} beside this class), loaded like one given with {@code -c}.
 */
final class DefaultExport {
    static final String NQN = "nqn.2024-11.io.keel:default";
    static final String ADDRESS = "127.0.0.1";
    static final String PORT = "4420";

    private DefaultExport() {
    }

    /** Copies the embedded config to a temporary file (deleted at exit) and answers its path. */
    static Path writeConfig() {
        try (InputStream in = DefaultExport.class.getResourceAsStream("default-config.json")) {
            if (in == null) {
                throw new IllegalStateException("default-config.json is missing from the launcher");
            }
            Path f = Files.createTempFile("keel-default-", ".json");
            f.toFile().deleteOnExit();
            Files.copy(in, f, StandardCopyOption.REPLACE_EXISTING);
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void printHowToConnect(PrintStream out) {
        out.println("Keel serves Malloc0 (1 GiB memory bdev) as " + NQN + " over NVMe/TCP on " + ADDRESS + ":" + PORT
                + " (any host). Connect with:");
        out.println("  nvme discover -t tcp -a " + ADDRESS + " -s " + PORT);
        out.println("  nvme connect -t tcp -a " + ADDRESS + " -s " + PORT + " -n " + NQN);
        out.flush();
    }
}
