package io.keel.core.rpc;

/** When a method may be called: before subsystem initialisation ({@code --wait-for-rpc}), after it, or both. */
public enum RpcState {
    /** Started with {@code --wait-for-rpc}, before {@code framework_start_init}. */
    STARTUP,
    /** Subsystems initialised. */
    RUNTIME
}
