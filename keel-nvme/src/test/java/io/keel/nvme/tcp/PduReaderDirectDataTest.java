package io.keel.nvme.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * A caller that reads a PDU's data from the connection itself ({@link PduReader#dataReceived}) gets the same PDU
 * as one that passes every byte through {@link PduReader#decode}: the data counts, the digest is checked over the
 * bytes where they landed, and the next PDU decodes.
 */
class PduReaderDirectDataTest {
    private final Arena arena = Arena.ofConfined();

    /** ICResp, then a C2HData of {@code len} bytes (with digests on) and a CapsuleResp; the data's offset in it. */
    private long[] stream(MemorySegment out, MemorySegment data, int len) {
        PduEncoder enc = new PduEncoder();
        long p = enc.icResp(out, 0, 0, 0, true, true, 8192);
        enc.negotiated(true, true, 0);
        long c2h = p;
        p += enc.c2hData(out, p, 4, 0, 0, data, 0, len, true, false);
        long dataAt = c2h + enc.dataOffset(PduType.DATA_HLEN);
        p += enc.capsuleResp(out, p, arena.allocate(16), 0);
        return new long[] {dataAt, p};
    }

    @Test
    void dataReceivedInPiecesEndsThePduAndTheDigestIsChecked() {
        int len = 40_000;
        MemorySegment data = arena.allocate(len);
        for (int i = 0; i < len; i++) {
            data.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7));
        }
        MemorySegment out = arena.allocate(64 << 10);
        long[] at = stream(out, data, len);
        for (boolean corrupt : new boolean[] {false, true}) {
            PduReader r = new PduReader(PduReader.Role.HOST, 1 << 20);
            assertThat(r.decode(out, 0, at[0])).isEqualTo(PduReader.Event.HEADER); // ICResp
            assertThat(r.decode(out, r.consumed(), at[0] - r.consumed())).isEqualTo(PduReader.Event.END);
            r.negotiated(true, true, 0);
            long pos = 128;
            assertThat(r.decode(out, pos, at[0] - pos)).isEqualTo(PduReader.Event.HEADER);
            pos += r.consumed();
            assertThat(r.decode(out, pos, at[0] - pos)).isEqualTo(PduReader.Event.NEED_MORE);
            assertThat(r.dataRemaining()).isEqualTo(len);

            // the data "arrives" straight into a buffer of the caller's, in two reads
            MemorySegment dst = arena.allocate(len);
            MemorySegment.copy(out, at[0], dst, 0, len);
            if (corrupt) {
                dst.set(ValueLayout.JAVA_BYTE, 777, (byte) 1);
            }
            r.dataReceived(dst, 0, 10_000);
            assertThat(r.dataPosition()).isEqualTo(10_000);
            assertThatThrownBy(() -> r.dataReceived(dst, 0, len)).isInstanceOf(IllegalStateException.class);
            r.dataReceived(dst, 10_000, len - 10_000);
            assertThat(r.dataRemaining()).isZero();
            pos = at[0] + len;
            PduReader.Event end = r.decode(out, pos, at[1] - pos); // the data digest
            assertThat(end).isEqualTo(corrupt ? PduReader.Event.DATA_DIGEST_ERROR : PduReader.Event.END);
            pos += r.consumed();
            assertThat(r.decode(out, pos, at[1] - pos)).isEqualTo(PduReader.Event.HEADER);
            assertThat(r.type()).isEqualTo(PduType.CAPSULE_RESP);
            assertThat(r.pduStreamOffset()).isEqualTo(pos);
        }
    }
}
