package io.keel.nvmf.rdma;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A queue pair's context names its group, slot and generation, and 0 names no group. */
class QueuePairContextTest {
    @Test
    void aContextGivesBackGroupSlotAndGeneration() {
        long c = QueuePairContext.of(3, 0xBEEF, 0xFFFF);
        assertThat(QueuePairContext.group(c)).isEqualTo(3);
        assertThat(QueuePairContext.slot(c)).isEqualTo(0xBEEF);
        assertThat(QueuePairContext.generation(c)).isEqualTo(0xFFFF);
        long first = QueuePairContext.of(0, 0, 0);
        assertThat(first).as("group 0's first qpair still names a group").isNotZero();
        assertThat(QueuePairContext.group(first)).isZero();
    }

    @Test
    void aQueuePairNoGroupMadeNamesNone() {
        assertThat(QueuePairContext.group(0)).isEqualTo(-1);
    }
}
