package io.keel.nvmf.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.core.testing.NativeMemory;
import org.junit.jupiter.api.Test;

class QueueMemoryTest {
    @Test
    void blocksGivenBackAreReusedAndTheLimitRefusesWhatDoesNotFit() {
        QueueMemory m = new QueueMemory(10_000);
        QueueMemory.Block a = m.take(4_000);
        QueueMemory.Block b = m.take(4_000);
        assertThat(m.take(4_000)).as("8,000 in use + 4,000 > 10,000").isNull();
        assertThat(m.refusals()).isEqualTo(1);
        m.give(a);
        assertThat(m.take(4_000)).isSameAs(a);
        assertThat(m.allocations()).isEqualTo(2);
        m.give(a);
        m.give(b);
        assertThat(m.inUse()).isZero();
        assertThat(m.kept()).isEqualTo(8_000);
        QueueMemory.Block c = m.take(9_000); // kept blocks of another size are freed to make room
        assertThat(c).isNotNull();
        assertThat(m.kept()).isZero();
        m.give(c);
        m.close();
    }

    @Test
    void aSendBufferBlockMayGrowPastTheLimitAndIsCounted() {
        QueueMemory m = new QueueMemory(4_096);
        QueueMemory.Block s = m.take(4_096, false);
        assertThat(m.take(8_192, false)).isNull();
        QueueMemory.Block big = m.take(8_192, true);
        assertThat(big.segment.byteSize()).isEqualTo(8_192);
        assertThat(m.inUse()).isEqualTo(12_288);
        m.give(s);
        m.give(big);
        m.close();
        assertThatThrownBy(() -> m.take(1)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void keptBlocksNobodyTakesAreFreedAfterIdleTrimsWhileReusedOnesStay() {
        QueueMemory m = new QueueMemory(1L << 30);
        long before = NativeMemory.otherCommitted();
        QueueMemory.Block[] burst = new QueueMemory.Block[64];
        for (int i = 0; i < burst.length; i++) {
            burst[i] = m.take(1 << 20);
        }
        for (QueueMemory.Block b : burst) {
            m.give(b);
        }
        QueueMemory.Block steady = m.take(4_096);
        m.give(steady);
        assertThat(m.kept()).isEqualTo(64L * (1 << 20) + 4_096);
        for (int i = 0; i < QueueMemory.IDLE_TRIMS - 1; i++) {
            assertThat(m.trim()).isZero();
            m.give(m.take(4_096)); // the steady size keeps being reused
        }
        assertThat(m.trim()).isEqualTo(64L * (1 << 20));
        assertThat(m.kept()).isEqualTo(4_096);
        assertThat(NativeMemory.otherCommitted() - before).as("the burst's memory is freed").isLessThan(1 << 20);
        m.close();
    }
}
