package io.keel.nvme.spec;

import static io.keel.nvme.spec.Bytes.le;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class CqeStatusTest {
    private final byte[] raw = new byte[32];
    private final Cqe cqe = new Cqe().wrap(MemorySegment.ofArray(raw), 16);

    @Test
    void fieldsAreAtTheirSpecOffsets() {
        le(raw, 16, 0x11223344, 4);
        le(raw, 20, 0x55667788, 4);
        le(raw, 24, 0x0102, 2);
        le(raw, 26, 0x0304, 2);
        le(raw, 28, 0x0506, 2);
        le(raw, 30, 0x8000 | 1 << 14 | 2 << 12 | 2 << 9 | 0x85 << 1 | 1, 2);
        assertThat(cqe.dw0()).isEqualTo(0x11223344);
        assertThat(cqe.dw1()).isEqualTo(0x55667788);
        assertThat(cqe.dw01()).isEqualTo(0x55667788_11223344L);
        assertThat(cqe.sqhd()).isEqualTo(0x0102);
        assertThat(cqe.sqid()).isEqualTo(0x0304);
        assertThat(cqe.cid()).isEqualTo(0x0506);
        assertThat(cqe.phase()).isTrue();
        assertThat(cqe.sc()).isEqualTo(0x85);
        assertThat(cqe.sct()).isEqualTo(Status.SCT_MEDIA);
        assertThat(cqe.crd()).isEqualTo(2);
        assertThat(cqe.more()).isTrue();
        assertThat(cqe.dnr()).isTrue();
        assertThat(cqe.statusCode()).isEqualTo(Status.COMPARE_FAILURE);
        assertThat(cqe.success()).isFalse();
    }

    @Test
    void settingStatusKeepsThePhaseTag() {
        cqe.clear().phase(true).status(Status.CONNECT_INVALID_HOST, true);
        assertThat(le(raw, 30, 2)).isEqualTo(0x8000 | 1 << 9 | 0x84 << 1 | 1);
        cqe.status(Status.SUCCESS, false);
        assertThat(le(raw, 30, 2)).isEqualTo(1);
        assertThat(cqe.success()).isTrue();
        cqe.phase(false).status(Status.SCT_GENERIC, Status.INTERNAL_ERROR, 1, false, false);
        assertThat(le(raw, 30, 2)).isEqualTo(1 << 12 | 0x06 << 1);
    }

    @Test
    void statusFieldComposition() {
        assertThat(Status.field(Status.SUCCESS, false)).isZero();
        assertThat(Status.field(Status.INVALID_OPCODE, true)).isEqualTo(0x8002);
        assertThat(Status.field(Status.INVALID_FIELD, true)).isEqualTo(0x8004);
        assertThat(Status.field(Status.INVALID_NAMESPACE_OR_FORMAT, false)).isEqualTo(0x16);
        assertThat(Status.field(Status.LBA_OUT_OF_RANGE, false)).isEqualTo(0x100);
        assertThat(Status.field(Status.CONNECT_INVALID_PARAMETERS, true)).isEqualTo(0x8000 | 0x200 | 0x104);
        assertThat(Status.field(Status.ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED, false)).isEqualTo(0x20A);
        assertThat(Status.field(Status.INVALID_LOG_PAGE, false)).isEqualTo(0x212);
        assertThat(Status.field(Status.COMPARE_FAILURE, false)).isEqualTo(0x400 | 0x10A);
        assertThat(Status.field(Status.SCT_PATH, 0x71, 0, false, false)).isEqualTo(0x600 | 0xE2);
        assertThat(Status.codeOf(Status.field(Status.FEATURE_ID_NOT_SAVEABLE, true)))
                .isEqualTo(Status.FEATURE_ID_NOT_SAVEABLE);
        assertThat(Status.sct(Status.INVALID_QUEUE_IDENTIFIER)).isEqualTo(1);
        assertThat(Status.sc(Status.INVALID_QUEUE_SIZE)).isEqualTo(2);
        assertThat(Status.sc(Status.CONTROLLER_BUSY)).isEqualTo(0x81);
        assertThat(Status.DATA_TRANSFER_ERROR).isEqualTo(0x04);
        assertThat(Status.ABORT_REQUESTED).isEqualTo(0x07);
        assertThat(Status.COMMAND_ID_CONFLICT).isEqualTo(0x03);
        assertThat(Status.NAMESPACE_NOT_READY).isEqualTo(0x82);
        assertThat(Status.CAPACITY_EXCEEDED).isEqualTo(0x81);
    }

    @Test
    void connectResponse() {
        cqe.clear().connectCntlid(0x0001);
        assertThat(le(raw, 16, 4)).isEqualTo(1);
        cqe.clear().connectInvalidParameter(true, 256).status(Status.CONNECT_INVALID_PARAMETERS, true);
        assertThat(raw[16]).isEqualTo((byte) 1);
        assertThat(le(raw, 18, 2)).isEqualTo(256);
        assertThat(cqe.connectIattr()).isEqualTo(1);
        assertThat(cqe.connectIpo()).isEqualTo(256);
    }
}
