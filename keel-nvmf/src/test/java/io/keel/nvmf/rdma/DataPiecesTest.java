package io.keel.nvmf.rdma;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How a command's data is cut into data buffers and work requests, and the pools' bound. */
class DataPiecesTest {
    static final long UNIT = 128 * 1024;

    @Test
    void upToOneBufferTheDataMovesInOne() {
        assertThat(DataPieces.buffers(512, UNIT)).isEqualTo(1);
        assertThat(DataPieces.buffers(UNIT, UNIT)).isEqualTo(1);
        assertThat(DataPieces.pieceLength(4096, UNIT, 0)).isEqualTo(4096);
    }

    @Test
    void aboveItTheDataIsCutIntoBuffersTheLastShorter() {
        assertThat(DataPieces.buffers(1 << 20, UNIT)).isEqualTo(8);
        assertThat(DataPieces.buffers(UNIT + 512, UNIT)).isEqualTo(2);
        assertThat(DataPieces.pieceLength(UNIT + 512, UNIT, 0)).isEqualTo(UNIT);
        assertThat(DataPieces.pieceLength(UNIT + 512, UNIT, 1)).isEqualTo(512);
        long sum = 0;
        for (int i = 0; i < DataPieces.buffers(3 * UNIT - 4096, UNIT); i++) {
            sum += DataPieces.pieceLength(3 * UNIT - 4096, UNIT, i);
        }
        assertThat(sum).isEqualTo(3 * UNIT - 4096);
    }

    @Test
    void workRequestsGatherUpToTheDevicesEntries() {
        assertThat(DataPieces.workRequests(8, 16)).isEqualTo(1);
        assertThat(DataPieces.workRequests(8, 8)).isEqualTo(1);
        assertThat(DataPieces.workRequests(16, 3)).isEqualTo(6);
        assertThat(DataPieces.workRequests(1, 1)).isEqualTo(1);
        assertThat(RdmaQpair.sgePerWr(8, 32)).as("no more entries than buffers").isEqualTo(8);
        assertThat(RdmaQpair.sgePerWr(16, 30)).as("at most SPDK's 16").isEqualTo(16);
        assertThat(RdmaQpair.sgePerWr(16, 4)).as("within the device's max_sge").isEqualTo(4);
        assertThat(RdmaQpair.strideFor(16, 4)).as("four READs or WRITEs and the response").isEqualTo(5);
        assertThat(RdmaQpair.strideFor(1, 1)).as("the 128 KiB default: one and the response").isEqualTo(2);
    }

    @Test
    void aPoolGivesWithinItsBoundOrToALoneCommand() {
        assertThat(DataPieces.fits(0, 4, 4)).isTrue();
        assertThat(DataPieces.fits(1, 4, 4)).isFalse();
        assertThat(DataPieces.fits(0, 8, 4)).as("larger than the bound, alone: it moves").isTrue();
        assertThat(DataPieces.fits(3, 1, 4)).isTrue();
    }
}
