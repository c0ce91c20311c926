package io.keel.nvme.host;

import io.keel.nvme.spec.DiscoveryLog;
import io.keel.nvme.spec.LogPageId;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a discovery controller's Discovery Log Page consistently, as NVMe-oF 1.1 section 5.3 asks of a host that
 * reads it in more than one command: the header first (GENCTR, NUMREC, RECFMT), then the NUMREC entries in pieces
 * of at most {@value #MAX_PIECE_BYTES} bytes (and MDTS), then GENCTR again. When GENCTR moved, the page changed
 * under the reads and the whole read starts over, at most {@value #MAX_ATTEMPTS} times. Every command goes
 * through {@link HostController#getLogPage}, so each is bounded by the admin timeout and its answer comes back on
 * the controller's owner thread, where the reader runs. Reading the page re-arms the controller's Discovery Log
 * Page Change notice. The buffers are heap memory, dropped with the reader.
 */
public final class DiscoveryLogReader {
    /** The end of a read: the page, or null and the error. */
    @FunctionalInterface
    public interface Done {
        void done(DiscoveryLogPage page, String error);
    }

    static final int MAX_ATTEMPTS = 8;
    /** The most entries taken from a controller (4 MiB of page): what a peer can make the host allocate. */
    static final long MAX_RECORDS = 4096;
    static final int MAX_PIECE_BYTES = 32 << 10;
    /** GENCTR and NUMREC: what the closing read of the header needs. */
    private static final int GENCTR_BYTES = 16;

    private final HostController ctrlr;
    private final Done done;
    private final int pieceEntries;
    private final MemorySegment header = MemorySegment.ofArray(new byte[DiscoveryLog.HEADER_SIZE]);
    private final DiscoveryLog headerView = new DiscoveryLog().wrap(header);
    private MemorySegment entries;
    private int records;
    private long genctr;
    private int attempts;

    private DiscoveryLogReader(HostController ctrlr, Done done) {
        this.ctrlr = ctrlr;
        this.done = done;
        long mdts = ctrlr.data() == null ? 0 : ctrlr.data().maxTransferBytes();
        long piece = mdts == 0 ? MAX_PIECE_BYTES : Math.min(MAX_PIECE_BYTES, mdts);
        this.pieceEntries = (int) Math.max(1, piece / DiscoveryLog.ENTRY_SIZE);
    }

    /** Reads {@code ctrlr}'s Discovery Log Page (a READY discovery controller; its owner thread). */
    public static void read(HostController ctrlr, Done done) {
        new DiscoveryLogReader(ctrlr, done).readHeader();
    }

    private void readHeader() {
        attempts++;
        ctrlr.getLogPage(LogPageId.DISCOVERY, 0, 0, header, DiscoveryLog.HEADER_SIZE, err -> {
            if (err != null) {
                done.done(null, err);
                return;
            }
            if (headerView.recfmt() != 0) {
                done.done(null, "discovery log record format " + headerView.recfmt() + " is not 0");
                return;
            }
            if (headerView.numrec() < 0 || headerView.numrec() > MAX_RECORDS) {
                done.done(null, "discovery log has " + Long.toUnsignedString(headerView.numrec())
                        + " records (at most " + MAX_RECORDS + " taken)");
                return;
            }
            genctr = headerView.genctr();
            records = (int) headerView.numrec();
            entries = MemorySegment.ofArray(new byte[records * DiscoveryLog.ENTRY_SIZE]);
            readEntries(0);
        });
    }

    private void readEntries(int from) {
        if (from == records) {
            checkGeneration();
            return;
        }
        int n = Math.min(records - from, pieceEntries);
        long at = (long) from * DiscoveryLog.ENTRY_SIZE;
        int bytes = n * DiscoveryLog.ENTRY_SIZE;
        ctrlr.getLogPage(LogPageId.DISCOVERY, 0, DiscoveryLog.HEADER_SIZE + at, entries.asSlice(at, bytes), bytes,
                err -> {
                    if (err != null) {
                        done.done(null, err);
                    } else {
                        readEntries(from + n);
                    }
                });
    }

    private void checkGeneration() {
        ctrlr.getLogPage(LogPageId.DISCOVERY, 0, 0, header, GENCTR_BYTES, err -> {
            if (err != null) {
                done.done(null, err);
            } else if (headerView.genctr() == genctr) {
                done.done(page(), null);
            } else if (attempts == MAX_ATTEMPTS) {
                done.done(null, "the discovery log changed during each of " + MAX_ATTEMPTS + " reads");
            } else {
                readHeader(); // it changed under the reads: start over
            }
        });
    }

    private DiscoveryLogPage page() {
        List<DiscoveryLogPage.Entry> list = new ArrayList<>(records);
        DiscoveryLog.Entry e = new DiscoveryLog.Entry();
        for (int i = 0; i < records; i++) {
            list.add(DiscoveryLogPage.Entry.of(e.wrap(entries, (long) i * DiscoveryLog.ENTRY_SIZE)));
        }
        return new DiscoveryLogPage(genctr, list);
    }
}
