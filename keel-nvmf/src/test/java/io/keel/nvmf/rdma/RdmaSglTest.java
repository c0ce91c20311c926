package io.keel.nvmf.rdma;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.nvme.spec.Opcode;
import io.keel.nvme.spec.SglDescriptor;
import io.keel.nvme.spec.Sqe;
import io.keel.nvme.spec.Status;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A capsule's SGL as the RDMA transport reads it: keyed data blocks (address, 24-bit length, key; the invalidate
 * subtype) for data in host memory, in-capsule data blocks by offset for writes, and each wrong shape failed with
 * its status (DNR set).
 */
class RdmaSglTest {
    private static final int NVM_WRITE = 0x01;
    private static final int NVM_READ = 0x02;
    private static final int FLUSH = 0x00;
    private static final long ICD = 4096;
    private static final long MAX = 131072;

    private final Arena arena = Arena.ofConfined();
    private final Sqe sqe = new Sqe().wrap(arena.allocate(Sqe.SIZE));
    private final RdmaSgl sgl = new RdmaSgl();

    @AfterEach
    void free() {
        arena.close();
    }

    private SglDescriptor keyed(int opcode, long address, int length, int key, int subtype) {
        sqe.opcode(opcode);
        return sqe.sgl().address(address).keyedLength(length).key(key)
                .identifier(SglDescriptor.TYPE_KEYED_DATA_BLOCK, subtype);
    }

    private void inCapsule(int opcode, long offset, long length) {
        sqe.opcode(opcode);
        sqe.sgl().address(offset).length(length).identifier(SglDescriptor.TYPE_DATA_BLOCK,
                SglDescriptor.SUBTYPE_OFFSET);
    }

    @Test
    void aReadNamesTheHostBufferAndKeyToWriteItsDataTo() {
        keyed(NVM_READ, 0x7f00_1234_5000L, 131072, 0xabcdef01, SglDescriptor.SUBTYPE_ADDRESS);
        assertThat(sgl.decode(sqe, 0, ICD, MAX)).isZero();
        assertThat(sgl.kind()).isEqualTo(RdmaSgl.Kind.KEYED);
        assertThat(sgl.hostToController()).isFalse();
        assertThat(sgl.length()).isEqualTo(131072);
        assertThat(sgl.remoteAddress()).isEqualTo(0x7f00_1234_5000L);
        assertThat(sgl.key()).isEqualTo(0xabcdef01);
        assertThat(sgl.invalidate()).isFalse();
    }

    @Test
    void aKeyedWriteWithTheInvalidateSubtypeAsksForSendWithInvalidate() {
        keyed(NVM_WRITE, 0x1000, 8192, 77, SglDescriptor.SUBTYPE_INVALIDATE_KEY);
        assertThat(sgl.decode(sqe, 0, ICD, MAX)).isZero();
        assertThat(sgl.kind()).isEqualTo(RdmaSgl.Kind.KEYED);
        assertThat(sgl.hostToController()).isTrue();
        assertThat(sgl.invalidate()).isTrue();
        assertThat(sgl.key()).isEqualTo(77);
    }

    @Test
    void aWriteInTheCapsuleIsFoundByItsOffset() {
        inCapsule(NVM_WRITE, 512, 1024);
        assertThat(sgl.decode(sqe, 4096, ICD, MAX)).isZero();
        assertThat(sgl.kind()).isEqualTo(RdmaSgl.Kind.IN_CAPSULE);
        assertThat(sgl.offset()).isEqualTo(512);
        assertThat(sgl.length()).isEqualTo(1024);
    }

    @Test
    void commandsWithoutDataHaveNoneWhateverTheDescriptorSays() {
        keyed(FLUSH, 0x1000, 4096, 5, SglDescriptor.SUBTYPE_ADDRESS);
        assertThat(sgl.decode(sqe, 0, ICD, MAX)).isZero();
        assertThat(sgl.kind()).isEqualTo(RdmaSgl.Kind.NONE);
        keyed(NVM_READ, 0x1000, 0, 5, SglDescriptor.SUBTYPE_ADDRESS);
        assertThat(sgl.decode(sqe, 0, ICD, MAX)).isZero();
        assertThat(sgl.kind()).isEqualTo(RdmaSgl.Kind.NONE);
        assertThat(sgl.length()).isZero();
    }

    @Test
    void theFabricsCommandTypeGivesTheDirection() {
        sqe.opcode(Opcode.FABRICS);
        sqe.fabrics().fctype(Opcode.Fabrics.CONNECT);
        sqe.sgl().address(0x2000).keyedLength(1024).key(9).identifier(SglDescriptor.TYPE_KEYED_DATA_BLOCK,
                SglDescriptor.SUBTYPE_ADDRESS);
        assertThat(sgl.decode(sqe, 0, ICD, MAX)).isZero();
        assertThat(sgl.hostToController()).as("Connect data goes to the controller").isTrue();
        assertThat(sgl.length()).isEqualTo(1024);
    }

    @Test
    void wrongShapesFailWithTheirStatus() {
        keyed(NVM_READ, 0x1000, 262144, 5, SglDescriptor.SUBTYPE_ADDRESS);
        assertThat(sgl.decode(sqe, 0, ICD, MAX)).as("longer than max_io_size")
                .isEqualTo(Status.field(Status.DATA_SGL_LENGTH_INVALID, true));
        inCapsule(NVM_READ, 0, 512);
        assertThat(sgl.decode(sqe, 512, ICD, MAX)).as("a read's data in the capsule")
                .isEqualTo(Status.field(Status.SGL_DESCRIPTOR_TYPE_INVALID, true));
        inCapsule(NVM_WRITE, 8192, 512);
        assertThat(sgl.decode(sqe, 4096, ICD, MAX)).as("an offset past the in-capsule data")
                .isEqualTo(Status.field(Status.SGL_OFFSET_INVALID, true));
        inCapsule(NVM_WRITE, 3584, 1024);
        assertThat(sgl.decode(sqe, 4096, ICD, MAX)).as("data past the capsule's end")
                .isEqualTo(Status.field(Status.DATA_SGL_LENGTH_INVALID, true));
        inCapsule(NVM_WRITE, 0, 2048);
        assertThat(sgl.decode(sqe, 1024, ICD, MAX)).as("more than the capsule brought")
                .isEqualTo(Status.field(Status.DATA_SGL_LENGTH_INVALID, true));
        sqe.opcode(NVM_WRITE);
        sqe.sgl().address(0).length(512).identifier(SglDescriptor.TYPE_TRANSPORT_DATA_BLOCK,
                SglDescriptor.SUBTYPE_TRANSPORT);
        assertThat(sgl.decode(sqe, 0, ICD, MAX)).as("NVMe/TCP's descriptor")
                .isEqualTo(Status.field(Status.SGL_DESCRIPTOR_TYPE_INVALID, true));
        sqe.opcode(0x03); // bidirectional
        assertThat(sgl.decode(sqe, 0, ICD, MAX)).isEqualTo(Status.field(Status.INVALID_FIELD, true));
    }
}
