package io.keel.core.iobuf;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * The global pool's lock-free stack: bounded, LIFO, and under contention every index is held by at most one
 * thread at a time and a push never finds it full (the failure a ring queue shows when its capacity equals
 * the number of buffers and a consumer is between claiming and releasing a slot).
 */
class IndexStackTest {
    @Test
    void boundedLifo() {
        IndexStack s = new IndexStack(4);
        assertThat(s.pop()).as("empty").isEqualTo(-1);
        for (int i = 0; i < 4; i++) {
            assertThat(s.push(i)).isTrue();
        }
        assertThat(s.push(0)).as("full").isFalse();
        assertThat(s.size()).isEqualTo(4);
        for (int i = 3; i >= 0; i--) {
            assertThat(s.pop()).isEqualTo(i);
        }
        assertThat(s.pop()).isEqualTo(-1);
        assertThat(s.size()).isZero();
    }

    @Test
    void theLargestIndexFitsItsBits() {
        IndexStack s = new IndexStack(IndexStack.MAX_CAPACITY);
        s.push(IndexStack.MAX_CAPACITY - 1);
        s.push(0);
        assertThat(s.pop()).isZero();
        assertThat(s.pop()).isEqualTo(IndexStack.MAX_CAPACITY - 1);
    }

    @Test
    void fourThreadsTakeAndReturnIndicesExactlyOnce() throws InterruptedException {
        int values = 64; // a power of two, exactly the capacity: the case that broke a ring queue
        int rounds = 200_000;
        IndexStack s = new IndexStack(values);
        for (int i = 0; i < values; i++) {
            s.push(i);
        }
        AtomicIntegerArray held = new AtomicIntegerArray(values);
        AtomicBoolean failed = new AtomicBoolean();
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                int[] mine = new int[3];
                for (int r = 0; r < rounds; r++) {
                    int n = 0;
                    for (int k = 0; k < 3; k++) { // take a few, as a thread holds several buffers
                        int v = s.pop();
                        if (v >= 0) {
                            if (held.getAndIncrement(v) != 0) {
                                failed.set(true);
                            }
                            mine[n++] = v;
                        }
                    }
                    for (int k = 0; k < n; k++) {
                        held.decrementAndGet(mine[k]);
                        if (!s.push(mine[k])) {
                            failed.set(true);
                        }
                    }
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join(30_000);
        }
        assertThat(failed.get()).as("an index held twice at once, or a push refused").isFalse();
        assertThat(s.size()).isEqualTo(values);
        boolean[] seen = new boolean[values];
        for (int i = 0; i < values; i++) {
            int v = s.pop();
            assertThat(seen[v]).as("index %d twice", v).isFalse();
            seen[v] = true;
        }
        assertThat(s.pop()).isEqualTo(-1);
    }
}
