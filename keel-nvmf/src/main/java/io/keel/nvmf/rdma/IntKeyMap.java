package io.keel.nvmf.rdma;

import java.util.Arrays;

/**
 * A map from {@code int} keys to values that looks up without boxing or allocating (open addressing, linear probing,
 * deletion by shifting back): a poll group finds the qpair of a shared receive queue's completion by its queue pair
 * number on every receive. Grows at half full. One owner thread.
 *
 * @param <V> the values
 */
final class IntKeyMap<V> {
    private int[] keys;
    private V[] values;
    private int size;

    IntKeyMap() {
        this(16);
    }

    @SuppressWarnings("unchecked")
    IntKeyMap(int capacity) {
        int n = Integer.highestOneBit(Math.max(4, capacity - 1)) << 1;
        keys = new int[n];
        values = (V[]) new Object[n];
    }

    /** The value of {@code key}, or null. */
    V get(int key) {
        int mask = keys.length - 1;
        for (int i = slot(key, mask); values[i] != null; i = i + 1 & mask) {
            if (keys[i] == key) {
                return values[i];
            }
        }
        return null;
    }

    /** Maps {@code key} to {@code value} (not null); the value it replaced, or null. */
    V put(int key, V value) {
        if (value == null) {
            throw new IllegalArgumentException("null value for key " + key);
        }
        int mask = keys.length - 1;
        int i = slot(key, mask);
        for (; values[i] != null; i = i + 1 & mask) {
            if (keys[i] == key) {
                V old = values[i];
                values[i] = value;
                return old;
            }
        }
        keys[i] = key;
        values[i] = value;
        if (++size * 2 > keys.length) {
            grow();
        }
        return null;
    }

    /** Removes {@code key}; the value it had, or null. */
    V remove(int key) {
        int mask = keys.length - 1;
        int i = slot(key, mask);
        for (; values[i] != null; i = i + 1 & mask) {
            if (keys[i] == key) {
                V old = values[i];
                values[i] = null;
                size--;
                shiftBack(i, mask);
                return old;
            }
        }
        return null;
    }

    int size() {
        return size;
    }

    /** Moves the entries after the hole at {@code hole} that probed past it back, so every lookup still finds them. */
    private void shiftBack(int hole, int mask) {
        for (int i = hole + 1 & mask; values[i] != null; i = i + 1 & mask) {
            int home = slot(keys[i], mask);
            // the entry at i may fill the hole when its home is not in the cyclic range (hole, i]
            boolean homeAfterHole = hole <= i ? home > hole && home <= i : home > hole || home <= i;
            if (!homeAfterHole) {
                keys[hole] = keys[i];
                values[hole] = values[i];
                values[i] = null;
                hole = i;
            }
        }
    }

    private void grow() {
        int[] oldKeys = keys;
        V[] oldValues = values;
        keys = new int[oldKeys.length * 2];
        values = Arrays.copyOf(oldValues, oldKeys.length * 2);
        Arrays.fill(values, null);
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldValues[i] != null) {
                put(oldKeys[i], oldValues[i]);
            }
        }
    }

    private static int slot(int key, int mask) {
        int h = key * 0x9E3779B9; // Fibonacci hashing: queue pair numbers are often consecutive
        return (h ^ h >>> 16) & mask;
    }
}
