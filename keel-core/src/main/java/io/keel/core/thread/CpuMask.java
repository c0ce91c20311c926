package io.keel.core.thread;

import java.util.BitSet;

/**
 * A set of cores, written as SPDK writes it: a hexadecimal mask ("0x3", "3") or a list ("[0,2-3]").
 * Immutable.
 */
public final class CpuMask {
    private final BitSet cores;

    private CpuMask(BitSet cores) {
        this.cores = cores;
    }

    public static CpuMask of(int... cores) {
        BitSet b = new BitSet();
        for (int c : cores) {
            b.set(c);
        }
        return new CpuMask(b);
    }

    public static CpuMask parse(String text) {
        String s = text.trim();
        BitSet b = new BitSet();
        if (s.startsWith("[") && s.endsWith("]")) {
            for (String part : s.substring(1, s.length() - 1).split(",")) {
                String p = part.trim();
                if (p.isEmpty()) {
                    continue;
                }
                int dash = p.indexOf('-');
                int from = Integer.parseInt(dash < 0 ? p : p.substring(0, dash).trim());
                int to = dash < 0 ? from : Integer.parseInt(p.substring(dash + 1).trim());
                if (from < 0 || to < from) {
                    throw new IllegalArgumentException("invalid core range '" + p + "' in cpumask " + text);
                }
                b.set(from, to + 1);
            }
        } else {
            String hex = s.startsWith("0x") || s.startsWith("0X") ? s.substring(2) : s;
            if (hex.isEmpty() || !hex.matches("[0-9a-fA-F]+")) {
                throw new IllegalArgumentException("invalid cpumask '" + text + "': expected hex (0x3) or a list ([0,1])");
            }
            for (int i = 0; i < hex.length(); i++) {
                int nibble = Character.digit(hex.charAt(hex.length() - 1 - i), 16);
                for (int bit = 0; bit < 4; bit++) {
                    if ((nibble & (1 << bit)) != 0) {
                        b.set(i * 4 + bit);
                    }
                }
            }
        }
        if (b.isEmpty()) {
            throw new IllegalArgumentException("cpumask '" + text + "' selects no core");
        }
        return new CpuMask(b);
    }

    public boolean contains(int core) {
        return cores.get(core);
    }

    public int count() {
        return cores.cardinality();
    }

    public int first() {
        return cores.nextSetBit(0);
    }

    /** The cores in ascending order. */
    public int[] cores() {
        return cores.stream().toArray();
    }

    public CpuMask intersect(CpuMask other) {
        BitSet b = (BitSet) cores.clone();
        b.and(other.cores);
        return new CpuMask(b);
    }

    public boolean isEmpty() {
        return cores.isEmpty();
    }

    /** Hexadecimal without a prefix, as SPDK prints a cpumask ("1", "3"). */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        int top = Math.max(0, cores.length() - 1);
        for (int nibbleIndex = top / 4; nibbleIndex >= 0; nibbleIndex--) {
            int nibble = 0;
            for (int bit = 0; bit < 4; bit++) {
                if (cores.get(nibbleIndex * 4 + bit)) {
                    nibble |= 1 << bit;
                }
            }
            if (sb.isEmpty() && nibble == 0 && nibbleIndex > 0) {
                continue;
            }
            sb.append(Character.forDigit(nibble, 16));
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CpuMask m && m.cores.equals(cores);
    }

    @Override
    public int hashCode() {
        return cores.hashCode();
    }
}
