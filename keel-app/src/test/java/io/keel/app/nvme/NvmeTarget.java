package io.keel.app.nvme;

import static io.keel.bdev.BdevTestApp.params;

import io.keel.bdev.BdevTestApp;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Keel's own NVMe/TCP target in this JVM, for the host's tests: its own application (two interrupt-mode reactors),
 * a malloc bdev as namespace 1 of {@link #NQN}, listening on a free loopback port.
 */
public final class NvmeTarget implements AutoCloseable {
    public static final String NQN = "nqn.2016-06.io.spdk:cnode1";

    public final BdevTestApp app;
    public final int port;

    private NvmeTarget(BdevTestApp app, int port) {
        this.app = app;
        this.port = port;
    }

    /** Namespace 1: Malloc0, {@code blocks} of 512 bytes. */
    public static NvmeTarget start(Path dir, long blocks) throws IOException {
        return start(dir, freePort(), t -> t.rpc("bdev_malloc_create", params("name", "Malloc0", "block_size", 512,
                "num_blocks", blocks)));
    }

    /**
     * Namespace 1 on a file (a uring bdev named Malloc0 all the same), so data outlives the target: a target
     * started again on the same file and port is the same controller back.
     */
    public static NvmeTarget startOnFile(Path dir, Path file, int port) throws IOException {
        return start(dir, port, t -> t.rpc("bdev_uring_create", params("name", "Malloc0", "filename",
                file.toString(), "block_size", 512)));
    }

    private static NvmeTarget start(Path dir, int port, java.util.function.Consumer<BdevTestApp> bdev)
            throws IOException {
        BdevTestApp t = BdevTestApp.start(Files.createTempDirectory(Files.createDirectories(dir), "target"));
        bdev.accept(t);
        t.rpc("nvmf_create_transport", params("trtype", "TCP"));
        t.rpc("nvmf_create_subsystem", params("nqn", NQN, "allow_any_host", true));
        t.rpc("nvmf_subsystem_add_ns", params("nqn", NQN, "namespace", params("bdev_name", "Malloc0")));
        NvmeTarget target = new NvmeTarget(t, port);
        target.listen(port);
        return target;
    }

    public void listen(int p) {
        app.rpc("nvmf_subsystem_add_listener", params("nqn", NQN, "listen_address", address(p)));
    }

    static Map<String, Object> address(int port) {
        return params("trtype", "tcp", "adrfam", "ipv4", "traddr", "127.0.0.1", "trsvcid", Integer.toString(port));
    }

    /** bdev_nvme_attach_controller parameters for this target under {@code name}, plus {@code extra}. */
    public Map<String, Object> attachParams(String name, Object... extra) {
        Map<String, Object> p = params("name", name, "trtype", "tcp", "adrfam", "ipv4", "traddr", "127.0.0.1",
                "trsvcid", Integer.toString(port), "subnqn", NQN);
        p.putAll(params(extra));
        return p;
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws Exception {
        app.close();
    }
}
