package io.keel.nvme.host.rdma;

/**
 * Contiguous runs of 4 KiB pages taken from a fixed range (a qpair's registered bounce memory): first fit from
 * where the last search ended, over a bitmap. A keyed SGL names one contiguous buffer, so a command's data needs
 * one run. Owner thread; allocates nothing.
 */
final class PageRuns {
    static final int PAGE = 4096;

    private final long[] used;
    private final int pages;
    private int rover;
    private int free;

    PageRuns(long bytes) {
        if (bytes < PAGE) {
            throw new IllegalArgumentException("fewer bytes than one page: " + bytes);
        }
        pages = (int) (bytes / PAGE);
        used = new long[(pages + 63) / 64];
        free = pages;
    }

    /** Bytes the range holds. */
    long capacity() {
        return (long) pages * PAGE;
    }

    int freePages() {
        return free;
    }

    /** The byte offset of a run holding {@code bytes} (more than 0), or -1 when no run that long is free now. */
    long allocate(long bytes) {
        int n = pagesOf(bytes);
        if (n > free) {
            return -1;
        }
        int start = rover;
        int at = start;
        int run = 0;
        for (int seen = 0; seen < pages + n; seen++) {
            if (at == pages) { // a run does not wrap: start again from 0
                at = 0;
                run = 0;
            }
            if (run == 0 && (at & 63) == 0 && used[at >>> 6] == -1L && at + 64 <= pages) {
                at += 64; // a full word: skip it
                seen += 63;
                continue;
            }
            if (isUsed(at)) {
                run = 0;
            } else if (++run == n) {
                int first = at - n + 1;
                mark(first, n, true);
                free -= n;
                rover = at + 1 == pages ? 0 : at + 1;
                return (long) first * PAGE;
            }
            at++;
        }
        return -1;
    }

    /** Gives back the run at {@code offset} that {@link #allocate} gave for {@code bytes}. */
    void free(long offset, long bytes) {
        int n = pagesOf(bytes);
        int first = (int) (offset / PAGE);
        for (int i = first; i < first + n; i++) {
            if (!isUsed(i)) {
                throw new IllegalStateException("page " + i + " freed but not in use");
            }
        }
        mark(first, n, false);
        free += n;
    }

    /** Everything free again (the connection that used the runs is gone). */
    void reset() {
        java.util.Arrays.fill(used, 0L);
        free = pages;
        rover = 0;
    }

    private static int pagesOf(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("run of " + bytes + " bytes");
        }
        return (int) ((bytes + PAGE - 1) / PAGE);
    }

    private boolean isUsed(int page) {
        return (used[page >>> 6] & (1L << page)) != 0;
    }

    private void mark(int first, int n, boolean on) {
        for (int i = first; i < first + n; i++) {
            if (on) {
                used[i >>> 6] |= 1L << i;
            } else {
                used[i >>> 6] &= ~(1L << i);
            }
        }
    }
}
