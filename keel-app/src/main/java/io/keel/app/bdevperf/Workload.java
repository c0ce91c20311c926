package io.keel.app.bdevperf;

import io.keel.bdev.IoType;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

/** An I/O pattern ({@code -w}), with SPDK bdevperf's names. */
public enum Workload {
    READ("read", false, EnumSet.of(IoType.READ)),
    WRITE("write", false, EnumSet.of(IoType.WRITE)),
    RANDREAD("randread", true, EnumSet.of(IoType.READ)),
    RANDWRITE("randwrite", true, EnumSet.of(IoType.WRITE)),
    /** Sequential reads and writes mixed by {@code -M}. */
    RW("rw", false, EnumSet.of(IoType.READ, IoType.WRITE)),
    /** Random reads and writes mixed by {@code -M}. */
    RANDRW("randrw", true, EnumSet.of(IoType.READ, IoType.WRITE)),
    /** Write a pattern, read it back, compare; sequential, never two I/Os to one range at once. */
    VERIFY("verify", false, EnumSet.of(IoType.READ, IoType.WRITE)),
    /** {@link #VERIFY} plus a bdev reset now and then. */
    RESET("reset", false, EnumSet.of(IoType.READ, IoType.WRITE, IoType.RESET)),
    UNMAP("unmap", false, EnumSet.of(IoType.UNMAP)),
    FLUSH("flush", false, EnumSet.of(IoType.FLUSH)),
    WRITE_ZEROES("write_zeroes", false, EnumSet.of(IoType.WRITE_ZEROES));

    private final String wireName;
    private final boolean random;
    private final Set<IoType> needs;

    Workload(String wireName, boolean random, Set<IoType> needs) {
        this.wireName = wireName;
        this.random = random;
        this.needs = needs;
    }

    public String wireName() {
        return wireName;
    }

    /** Whether offsets are drawn at random (else they walk the range in order). */
    public boolean random() {
        return random;
    }

    /** Whether the read percentage {@code -M} applies. */
    public boolean mixed() {
        return this == RW || this == RANDRW;
    }

    /** Whether each write is read back and compared. */
    public boolean verifies() {
        return this == VERIFY || this == RESET;
    }

    /** Whether the workload only reads (its bdevs are opened read-only). */
    public boolean readOnly() {
        return this == READ || this == RANDREAD;
    }

    /** Whether I/Os carry a data buffer. */
    public boolean carriesData() {
        return this != UNMAP && this != FLUSH && this != WRITE_ZEROES;
    }

    /** The I/O types a bdev must support to run this workload. */
    public Set<IoType> needs() {
        return EnumSet.copyOf(needs);
    }

    public static Workload fromWire(String name) {
        for (Workload w : values()) {
            if (w.wireName.equals(name)) {
                return w;
            }
        }
        throw new IllegalArgumentException("unknown workload '" + name + "': expected one of " + names());
    }

    /** The accepted names, for messages. */
    public static String names() {
        return Arrays.stream(values()).map(Workload::wireName).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return wireName;
    }
}
