package io.keel.nvme.host.rdma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.nvme.spec.Sqe;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class RdmaSglTest {
    private final byte[] raw = new byte[Sqe.SIZE];
    private final Sqe sqe = new Sqe().wrap(MemorySegment.ofArray(raw), 0);

    @Test
    void aKeyedDataBlockNamesAddressLengthAndKeyAsTheSpecLaysThemOut() {
        RdmaSgl.keyed(sqe, 0x1122_3344_5566_7788L, 0x02_0000, 0xCAFE_F00D);
        assertThat(sqe.psdt()).isEqualTo(Sqe.PSDT_SGL_MPTR_CONTIGUOUS);
        int at = 24; // SGL1 is DPTR, bytes 24-39
        assertThat(raw[at]).isEqualTo((byte) 0x88);
        assertThat(raw[at + 7]).isEqualTo((byte) 0x11);
        assertThat(raw[at + 8]).isEqualTo((byte) 0x00); // length 24 bits little endian: 0x020000
        assertThat(raw[at + 9]).isEqualTo((byte) 0x00);
        assertThat(raw[at + 10]).isEqualTo((byte) 0x02);
        assertThat(raw[at + 11]).isEqualTo((byte) 0x0D); // key 32 bits at 11
        assertThat(raw[at + 14]).isEqualTo((byte) 0xCA);
        assertThat(raw[at + 15]).as("keyed data block, address subtype").isEqualTo((byte) 0x40);
        assertThat(sqe.sgl().keyedLength()).isEqualTo(0x02_0000);
        assertThat(sqe.sgl().key()).isEqualTo(0xCAFE_F00D);
    }

    @Test
    void inCapsuleDataIsADataBlockAtOffsetZero() {
        RdmaSgl.keyed(sqe, 1, 2, 3); // what a reused request carried before
        RdmaSgl.inCapsule(sqe, 4096);
        assertThat(sqe.sgl().address()).isZero();
        assertThat(sqe.sgl().length()).isEqualTo(4096);
        assertThat(raw[24 + 15]).as("data block, offset subtype").isEqualTo((byte) 0x01);
        assertThat(raw[24 + 12]).as("reserved: the old key is gone").isZero();
    }

    @Test
    void noDataIsAnEmptyKeyedBlockAndTooLongIsRefused() {
        RdmaSgl.none(sqe);
        assertThat(sqe.sgl().address()).isZero();
        assertThat(sqe.sgl().keyedLength()).isZero();
        assertThat(sqe.sgl().key()).isZero();
        assertThat(raw[24 + 15]).isEqualTo((byte) 0x40);
        assertThatThrownBy(() -> RdmaSgl.keyed(sqe, 0, 1 << 24, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
