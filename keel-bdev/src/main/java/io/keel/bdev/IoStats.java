package io.keel.bdev;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * I/O statistics of one channel (or, summed, of a bdev): per type, operations, bytes and latency ticks
 * (total, min, max), and failures. Written by one thread only; summed by whoever gathered the snapshots.
 */
public final class IoStats {
    private static final int N = IoType.values().length;

    private final long[] ops = new long[N];
    private final long[] bytes = new long[N];
    private final long[] latency = new long[N];
    private final long[] minLatency = new long[N];
    private final long[] maxLatency = new long[N];
    private final long[] errors = new long[N];

    public IoStats() {
        reset();
    }

    void record(IoType t, long byteCount, long ticks, boolean success) {
        int i = t.ordinal();
        if (!success) {
            errors[i]++;
            return;
        }
        ops[i]++;
        bytes[i] += byteCount;
        latency[i] += ticks;
        minLatency[i] = Math.min(minLatency[i], ticks);
        maxLatency[i] = Math.max(maxLatency[i], ticks);
    }

    /** Adds {@code o} into this. */
    public void add(IoStats o) {
        for (int i = 0; i < N; i++) {
            ops[i] += o.ops[i];
            bytes[i] += o.bytes[i];
            latency[i] += o.latency[i];
            minLatency[i] = Math.min(minLatency[i], o.minLatency[i]);
            maxLatency[i] = Math.max(maxLatency[i], o.maxLatency[i]);
            errors[i] += o.errors[i];
        }
    }

    public IoStats copy() {
        IoStats c = new IoStats();
        c.add(this);
        return c;
    }

    public void reset() {
        for (int i = 0; i < N; i++) {
            ops[i] = 0;
            bytes[i] = 0;
            latency[i] = 0;
            minLatency[i] = Long.MAX_VALUE;
            maxLatency[i] = 0;
            errors[i] = 0;
        }
    }

    /** Applies a {@code bdev_get_iostat} reset_mode: all, maxmin, error (none does nothing). */
    void reset(String mode) {
        switch (mode) {
            case "all" -> reset();
            case "maxmin" -> {
                for (int i = 0; i < N; i++) {
                    minLatency[i] = Long.MAX_VALUE;
                    maxLatency[i] = 0;
                }
            }
            case "error" -> java.util.Arrays.fill(errors, 0);
            default -> { }
        }
    }

    public long ops(IoType t) {
        return ops[t.ordinal()];
    }

    public long bytes(IoType t) {
        return bytes[t.ordinal()];
    }

    public long errors(IoType t) {
        return errors[t.ordinal()];
    }

    /** Writes the fields of SPDK's {@code bdev_get_iostat} into {@code o}. */
    void writeTo(ObjectNode o) {
        field(o, "read", IoType.READ, "bytes_read", "num_read_ops");
        field(o, "write", IoType.WRITE, "bytes_written", "num_write_ops");
        field(o, "unmap", IoType.UNMAP, "bytes_unmapped", "num_unmap_ops");
        o.put("bytes_copied", 0);
        o.put("num_copy_ops", 0);
        latency(o, "read", IoType.READ);
        latency(o, "write", IoType.WRITE);
        latency(o, "unmap", IoType.UNMAP);
        o.put("copy_latency_ticks", 0);
        o.put("max_copy_latency_ticks", 0);
        o.put("min_copy_latency_ticks", 0);
        ObjectNode err = o.putObject("io_error");
        for (IoType t : IoType.values()) {
            if (errors[t.ordinal()] > 0) {
                err.put(t.wireName(), errors[t.ordinal()]);
            }
        }
    }

    private void field(ObjectNode o, String name, IoType t, String bytesKey, String opsKey) {
        o.put(bytesKey, bytes[t.ordinal()]);
        o.put(opsKey, ops[t.ordinal()]);
    }

    private void latency(ObjectNode o, String name, IoType t) {
        int i = t.ordinal();
        o.put(name + "_latency_ticks", latency[i]);
        o.put("max_" + name + "_latency_ticks", maxLatency[i]);
        o.put("min_" + name + "_latency_ticks", minLatency[i] == Long.MAX_VALUE ? 0 : minLatency[i]);
    }
}
