package io.keel.core.app;

import io.keel.core.reactor.ReactorOptions;
import io.keel.core.rpc.RpcServer;
import io.keel.core.thread.CpuMask;
import java.nio.file.Path;

/**
 * How {@code keel start} runs.
 *
 * @param cores          reactor cores ({@code -m}, default 0x1 as SPDK)
 * @param interruptMode  {@code --interrupt-mode}
 * @param pin            pin reactors to their cores
 * @param rpcSocket      {@code -r}, default {@code /var/tmp/keel.sock}
 * @param config         {@code -c}/{@code --json}: an SPDK JSON config to load, or null
 * @param waitForRpc     {@code --wait-for-rpc}: stay in the startup state until {@code framework_start_init}
 * @param watchdogMillis reactor stall bound (0 disables)
 * @param maxRequestBytes largest JSON-RPC request accepted
 * @param vhostSocketDir {@code -S}: the folder of vhost controllers' sockets (SPDK's; default the current directory)
 */
public record AppOptions(CpuMask cores, boolean interruptMode, boolean pin, Path rpcSocket, Path config,
        boolean waitForRpc, long watchdogMillis, long maxRequestBytes, Path vhostSocketDir) {
    public static final Path DEFAULT_RPC_SOCKET = Path.of("/var/tmp/keel.sock");

    public static AppOptions defaults() {
        return new AppOptions(CpuMask.of(0), false, false, DEFAULT_RPC_SOCKET, null, false,
                ReactorOptions.DEFAULT_WATCHDOG_MILLIS, RpcServer.DEFAULT_MAX_REQUEST_BYTES, Path.of(""));
    }

    public AppOptions withCores(CpuMask c) {
        return new AppOptions(c, interruptMode, pin, rpcSocket, config, waitForRpc, watchdogMillis, maxRequestBytes,
                vhostSocketDir);
    }

    public AppOptions withInterruptMode(boolean i) {
        return new AppOptions(cores, i, pin, rpcSocket, config, waitForRpc, watchdogMillis, maxRequestBytes,
                vhostSocketDir);
    }

    public AppOptions withPin(boolean p) {
        return new AppOptions(cores, interruptMode, p, rpcSocket, config, waitForRpc, watchdogMillis, maxRequestBytes,
                vhostSocketDir);
    }

    public AppOptions withRpcSocket(Path r) {
        return new AppOptions(cores, interruptMode, pin, r, config, waitForRpc, watchdogMillis, maxRequestBytes,
                vhostSocketDir);
    }

    public AppOptions withConfig(Path c) {
        return new AppOptions(cores, interruptMode, pin, rpcSocket, c, waitForRpc, watchdogMillis, maxRequestBytes,
                vhostSocketDir);
    }

    public AppOptions withWaitForRpc(boolean w) {
        return new AppOptions(cores, interruptMode, pin, rpcSocket, config, w, watchdogMillis, maxRequestBytes,
                vhostSocketDir);
    }

    public AppOptions withWatchdogMillis(long ms) {
        return new AppOptions(cores, interruptMode, pin, rpcSocket, config, waitForRpc, ms, maxRequestBytes,
                vhostSocketDir);
    }

    public AppOptions withVhostSocketDir(Path dir) {
        return new AppOptions(cores, interruptMode, pin, rpcSocket, config, waitForRpc, watchdogMillis, maxRequestBytes,
                dir);
    }

    ReactorOptions reactorOptions() {
        return new ReactorOptions(cores, interruptMode, pin, watchdogMillis, ReactorOptions.DEFAULT_RING_CAPACITY);
    }
}
