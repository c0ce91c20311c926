package io.keel.core.iobuf;

/** One entry of {@code iobuf_get_stats}: a module's channels on every thread, summed. */
public record IoBufModuleStats(String module, IoBufPoolStats smallPool, IoBufPoolStats largePool) {
}
