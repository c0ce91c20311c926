package io.keel.nvmf.rdma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The queue-pair-number map of a poll group: what a HashMap would answer, without boxing. */
class IntKeyMapTest {
    @Test
    void queuePairNumbersMapToTheirQpairsUntilRemoved() {
        IntKeyMap<String> m = new IntKeyMap<>();
        assertThat(m.get(17)).isNull();
        assertThat(m.put(17, "qpair a")).isNull();
        assertThat(m.put(18, "qpair b")).isNull();
        assertThat(m.get(17)).isEqualTo("qpair a");
        assertThat(m.put(17, "qpair c")).as("a reused number").isEqualTo("qpair a");
        assertThat(m.size()).isEqualTo(2);
        assertThat(m.remove(17)).isEqualTo("qpair c");
        assertThat(m.remove(17)).isNull();
        assertThat(m.get(17)).as("a qpair already gone").isNull();
        assertThat(m.get(18)).isEqualTo("qpair b");
        assertThatThrownBy(() -> m.put(1, null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anyMixOfPutsAndRemovesAnswersAsAHashMap() {
        Random random = new Random(13);
        IntKeyMap<Integer> m = new IntKeyMap<>(4);
        Map<Integer, Integer> expected = new HashMap<>();
        for (int round = 0; round < 200_000; round++) {
            // few distinct keys, so that probes collide, wrap and shift back; negative ones too
            int key = random.nextInt(300) - 40;
            int value = random.nextInt();
            switch (random.nextInt(3)) {
                case 0 -> assertThat(m.put(key, value)).isEqualTo(expected.put(key, value));
                case 1 -> assertThat(m.remove(key)).isEqualTo(expected.remove(key));
                default -> assertThat(m.get(key)).isEqualTo(expected.get(key));
            }
            assertThat(m.size()).isEqualTo(expected.size());
        }
        for (int key = -40; key < 260; key++) {
            assertThat(m.get(key)).as("key %d", key).isEqualTo(expected.get(key));
        }
    }
}
