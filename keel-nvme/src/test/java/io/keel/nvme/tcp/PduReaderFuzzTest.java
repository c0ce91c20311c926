package io.keel.nvme.tcp;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;
import java.util.List;

/**
 * Coverage-guided fuzzing of the PDU reader in each role with arbitrary bytes (an endpoint's whole receive
 * stream, IC PDU first). Whatever the bytes, the reader never throws, keeps its contract on every event (see
 * {@link PduTranscript}), reports malformed input as ERROR with a FES, and delivers exactly the same PDUs, data
 * and error however the bytes are cut: in one piece, byte by byte, at cuts derived from the input, and with the
 * data copied into a buffer instead of sliced. Without JAZZER_FUZZ=1 the saved inputs under
 * {@code PduReaderFuzzTestInputs/} replay as a regression test; {@code scripts/fuzz.sh} runs a campaign.
 */
class PduReaderFuzzTest {
    /** Small enough that PLEN and DATAL limits are reached by inputs of the fuzzer's usual sizes. */
    private static final long MAX_PDU = 2048;
    private static final long MAX_H2C_DATA = 1024;

    @FuzzTest
    void controller(byte[] wire) {
        sameWhateverTheCuts(PduReader.Role.CONTROLLER, wire);
    }

    @FuzzTest
    void host(byte[] wire) {
        sameWhateverTheCuts(PduReader.Role.HOST, wire);
    }

    private static void sameWhateverTheCuts(PduReader.Role role, byte[] wire) {
        List<String> whole = transcript(role, false).feed(wire);
        int[] everyByte = new int[Math.max(0, wire.length - 1)];
        Arrays.setAll(everyByte, i -> i + 1);
        same(whole, transcript(role, false).feed(wire, everyByte), "byte by byte");
        same(whole, transcript(role, true).feed(wire), "copied into a buffer");
        same(whole, transcript(role, true).feed(wire, everyByte), "byte by byte, copied into a buffer");
        int[] cuts = cuts(wire);
        same(whole, transcript(role, false).feed(wire, cuts), "cut at " + Arrays.toString(cuts));
    }

    private static PduTranscript transcript(PduReader.Role role, boolean intoBuffer) {
        return new PduTranscript(new PduReader(role, MAX_PDU).maxH2CData(MAX_H2C_DATA), intoBuffer);
    }

    /** A few cut points that depend only on the input, so a finding replays. */
    private static int[] cuts(byte[] wire) {
        int h = Arrays.hashCode(wire);
        return wire.length < 2 ? new int[0]
                : Arrays.stream(new int[] {h & 0xFFFF, h >>> 16, h * 31 >>> 8}).map(c -> c % wire.length).sorted()
                        .toArray();
    }

    private static void same(List<String> expected, List<String> actual, String how) {
        if (!expected.equals(actual)) {
            throw new AssertionError("decoded differently " + how + ":\n  whole: " + expected + "\n  " + how + ": " + actual);
        }
    }
}
