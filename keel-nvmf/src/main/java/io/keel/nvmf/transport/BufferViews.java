package io.keel.nvmf.transport;

import java.lang.foreign.MemorySegment;
import java.util.IdentityHashMap;

/**
 * Exact-length views of a poll group's data buffers: the bdev layer takes a buffer's size as the transfer's, so a
 * command gets its pool buffer cut to its length. The view is kept per pool buffer, so a steady workload makes no
 * new views (iobuf takes a view back as its buffer). One owner thread.
 */
public final class BufferViews {
    private final IdentityHashMap<MemorySegment, MemorySegment> views = new IdentityHashMap<>();

    /** {@code buffer} cut to {@code length} bytes (itself when it has that length). */
    public MemorySegment exact(MemorySegment buffer, long length) {
        if (buffer.byteSize() == length) {
            return buffer;
        }
        MemorySegment v = views.get(buffer);
        if (v == null || v.byteSize() != length) {
            v = buffer.asSlice(0, length);
            views.put(buffer, v);
        }
        return v;
    }
}
