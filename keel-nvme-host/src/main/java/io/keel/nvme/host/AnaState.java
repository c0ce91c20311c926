package io.keel.nvme.host;

import io.keel.nvme.spec.Wire;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * Asymmetric Namespace Access: the state of each ANA group as the controller's ANA log page (0x0C) tells it, read
 * with "return groups only" (NVMe Base 2.0 §5.16.1.12: a 16-byte header with the number of groups, then one
 * 32-byte descriptor per group: ANAGRPID, NSID count, change count, state in bits 3:0).
 */
public final class AnaState {
    public static final int OPTIMIZED = 0x1;
    public static final int NON_OPTIMIZED = 0x2;
    public static final int INACCESSIBLE = 0x3;
    public static final int PERSISTENT_LOSS = 0x4;
    public static final int CHANGE = 0xF;

    static final int HEADER = 16;
    static final int DESCRIPTOR = 32;

    private AnaState() {
    }

    /** Group → state from a log page read with RGO (no NSID lists); at most what fits in {@code length} bytes. */
    static Map<Integer, Integer> parse(MemorySegment page, int length) {
        Map<Integer, Integer> states = new HashMap<>();
        int groups = Wire.u16(page, 8);
        long at = HEADER;
        for (int i = 0; i < groups && at + DESCRIPTOR <= length; i++) {
            int grp = Wire.u32(page, at);
            int nsids = Wire.u32(page, at + 4);
            int state = Wire.u8(page, at + 16) & 0xF;
            states.put(grp, state);
            at += DESCRIPTOR + 4L * nsids; // no NSIDs with RGO, but step over any a controller sends
        }
        return states;
    }

    /** Whether I/O may go to a namespace in this state. */
    public static boolean accessible(int state) {
        return state == OPTIMIZED || state == NON_OPTIMIZED;
    }
}
