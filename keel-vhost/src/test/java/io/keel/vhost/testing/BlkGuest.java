package io.keel.vhost.testing;

import io.keel.core.sys.EventFd;
import io.keel.core.sys.Libc;
import io.keel.vhost.user.VhostUserMessage;
import io.keel.vhost.user.VhostUserRequest;
import io.keel.vhost.virtio.SplitRing;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A guest's virtio-blk driver over a {@link FakeFrontEnd}: negotiates as QEMU does, brings two queues up, lays
 * requests out in its RAM (header, data, status byte), makes them available, kicks, and waits for the used ring.
 */
public final class BlkGuest implements AutoCloseable {
    public static final long RAM_BASE = 0x10_0000;
    public static final int QUEUE_SIZE = 16;
    /** Where in a request's slot the pieces of a split header lie: 64 bytes apart. */
    private static final long HEADER_PIECE_SPACING = 64;
    static final int ACK = VhostUserMessage.VERSION | VhostUserMessage.FLAG_NEED_REPLY;
    /** Per queue and head: 64 KiB of guest RAM for one request's header, data and status. */
    static final long SLOT_BYTES = 0x1_0000;
    static final long SLOTS = RAM_BASE + 0x1_0000;
    private static final long WAIT_NANOS = 10_000_000_000L;

    public final FakeFrontEnd qemu;
    final Arena arena = Arena.ofShared();
    final MemorySegment cs = Libc.callState(arena);
    final MemorySegment count = arena.allocate(8, 8);
    final GuestRam ram = new GuestRam(RAM_BASE, 4 << 20);
    final DriverRing[] rings = {new DriverRing(ram, RAM_BASE, QUEUE_SIZE), new DriverRing(ram, RAM_BASE + 0x4000,
            QUEUE_SIZE)};
    final int[] kickFds = new int[2];
    final int[] callFds = new int[2];
    private final int[] nextHead = new int[2];
    /** Heads laid out but not yet made available, per queue: a kick publishes them, once the test filled them. */
    private final int[][] unpublished = new int[2][QUEUE_SIZE];
    private final int[] unpublishedCount = new int[2];

    public BlkGuest(FakeFrontEnd qemu) {
        this.qemu = qemu;
        for (int q = 0; q < 2; q++) {
            kickFds[q] = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, cs);
            callFds[q] = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC, cs);
        }
    }

    public long features() {
        qemu.send(VhostUserRequest.GET_FEATURES, VhostUserMessage.VERSION, 0);
        return qemu.awaitReply().u64();
    }

    /** Negotiates as QEMU does and brings both queues up ({@link BlkBringUp}), waiting for each reply. */
    public void bringUp() {
        BlkBringUp steps = new BlkBringUp(this);
        steps.begin();
        while (steps.onReply(qemu.awaitReply())) {
            // each reply sends the next message
        }
    }

    /** Guest-physical address of queue {@code q}'s slot for {@code head}. */
    public static long slot(int q, int head) {
        return SLOTS + (q * QUEUE_SIZE + head) * SLOT_BYTES;
    }

    public MemorySegment guest(long gpa, long bytes) {
        return ram.bytes().asSlice(gpa - RAM_BASE, bytes);
    }

    /** What a request ended with. */
    public record Done(byte status, int usedLength, int head) {
    }

    /**
     * Makes a request on queue {@code q}: the header (its own descriptor, {@code headerBytes} of it), then
     * {@code dataBytes} split into {@code pieces} descriptors (device-writable when {@code deviceWrites}), then a
     * status byte; returns its data's guest address (contiguous) for the test to fill or read. The device sees it only
     * at the next {@link #kick}: a request made available before its data is written may be served with stale data.
     */
    public long request(int q, int type, long sector, int headerBytes, int dataBytes, int pieces, boolean deviceWrites) {
        return request(q, type, sector, new int[] {headerBytes}, dataBytes, pieces, deviceWrites);
    }

    /**
     * As {@link #request}, the header split over descriptors of {@code headerPieces} bytes each, the pieces apart in
     * guest memory, as a driver may lay it out.
     */
    public long request(int q, int type, long sector, int[] headerPieces, int dataBytes, int pieces,
            boolean deviceWrites) {
        int head = nextHead[q];
        nextHead[q] = (head + pieces + headerPieces.length + 1) % QUEUE_SIZE;
        long at = slot(q, head);
        MemorySegment h = fillSlot(at, type, sector);
        long data = at + 512;
        long status = at + SLOT_BYTES - 1;
        DriverRing d = rings[q];
        int idx = head;
        int headerOffset = 0;
        for (int i = 0; i < headerPieces.length; i++) {
            long pieceAt = at;
            if (i > 0) { // apart from the one before, so that only reading the pieces in turn gives the header
                idx = (idx + 1) % QUEUE_SIZE;
                pieceAt = at + HEADER_PIECE_SPACING * i;
                MemorySegment.copy(h, headerOffset, guest(pieceAt, headerPieces[i]), 0, headerPieces[i]);
            }
            d.desc(idx, pieceAt, headerPieces[i], SplitRing.DESC_F_NEXT, (idx + 1) % QUEUE_SIZE);
            headerOffset += headerPieces[i];
        }
        if (headerPieces.length > 1) { // the header's rest is not where its first piece ends
            h.asSlice(headerPieces[0]).fill((byte) 0xa5);
        }
        int per = pieces == 0 ? 0 : dataBytes / pieces;
        for (int p = 0; p < pieces; p++) {
            idx = (idx + 1) % QUEUE_SIZE;
            int len = p == pieces - 1 ? dataBytes - per * (pieces - 1) : per;
            d.desc(idx, data + (long) per * p, len, SplitRing.DESC_F_NEXT | (deviceWrites ? SplitRing.DESC_F_WRITE : 0),
                    (idx + 1) % QUEUE_SIZE);
        }
        idx = (idx + 1) % QUEUE_SIZE;
        d.desc(idx, status, 1, SplitRing.DESC_F_WRITE, 0);
        unpublished[q][unpublishedCount[q]++] = head;
        return data;
    }

    /**
     * Makes a request on queue {@code q} whose data share a descriptor with what drivers usually keep apart: for a
     * write the header and the data are one device-readable buffer, for a read ({@code deviceWrites}) the data and the
     * status byte are one device-writable buffer. Returns the data's guest address, as {@link #request} does.
     */
    public long requestSharingDescriptors(int q, int type, long sector, int dataBytes, boolean deviceWrites) {
        int head = nextHead[q];
        nextHead[q] = (head + 2) % QUEUE_SIZE;
        long at = slot(q, head);
        fillSlot(at, type, sector);
        long status = at + SLOT_BYTES - 1;
        DriverRing d = rings[q];
        int next = (head + 1) % QUEUE_SIZE;
        long data;
        if (deviceWrites) {
            data = status - dataBytes;
            d.desc(head, at, 16, SplitRing.DESC_F_NEXT, next);
            d.desc(next, data, dataBytes + 1, SplitRing.DESC_F_WRITE, 0);
        } else {
            data = at + 16;
            d.desc(head, at, 16 + dataBytes, SplitRing.DESC_F_NEXT, next);
            d.desc(next, status, 1, SplitRing.DESC_F_WRITE, 0);
        }
        unpublished[q][unpublishedCount[q]++] = head;
        return data;
    }

    /**
     * Writes a request's header at the start of its slot at {@code at} and primes its status byte (the slot's last)
     * with a value the device never writes; returns the header.
     */
    private MemorySegment fillSlot(long at, int type, long sector) {
        MemorySegment h = guest(at, 16);
        h.set(ValueLayout.JAVA_INT_UNALIGNED, 0, type);
        h.set(ValueLayout.JAVA_INT_UNALIGNED, 4, 0);
        h.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, sector);
        guest(at + SLOT_BYTES - 1, 1).set(ValueLayout.JAVA_BYTE, 0, (byte) 0x7f);
        return h;
    }

    /** Kicks queue {@code q} and waits for its used ring to reach the available index; the last one's outcome. */
    public Done kickAndWait(int q) {
        kick(q);
        DriverRing d = rings[q];
        long deadline = System.nanoTime() + WAIT_NANOS;
        while (d.usedIdx() != d.availIdx()) { // spun, not polled: a test measures completion gaps with it
            if (System.nanoTime() > deadline) {
                throw new AssertionError("queue " + q + ": used index " + d.usedIdx() + " did not reach "
                        + d.availIdx() + " in 10 s");
            }
            Thread.onSpinWait();
        }
        return used(q, (d.usedIdx() - 1) & 0xffff);
    }

    /** Queue {@code q}'s used index: how many requests the device has completed (mod 2^16). */
    public int usedIdx(int q) {
        return rings[q].usedIdx();
    }

    /** The outcome of queue {@code q}'s {@code i}-th used entry (read after {@link #usedIdx} passed it). */
    public Done used(int q, int i) {
        DriverRing d = rings[q];
        int head = d.usedId(i);
        byte status = guest(slot(q, head) + SLOT_BYTES - 1, 1).get(ValueLayout.JAVA_BYTE, 0);
        return new Done(status, d.usedLen(i), head);
    }

    /** The head the next {@link #request} on queue {@code q} takes (its descriptors follow it, modulo the size). */
    public int nextHead(int q) {
        return nextHead[q];
    }

    /** Queue {@code q}'s call eventfd: the device writes it when it completed requests. */
    public int callFd(int q) {
        return callFds[q];
    }

    /** The RAM the front end shares with the back end. */
    public GuestRam ram() {
        return ram;
    }

    /** Makes queue {@code q}'s requests laid out since the last kick available and kicks: the device looks at them. */
    public void kick(int q) {
        for (int i = 0; i < unpublishedCount[q]; i++) {
            rings[q].makeAvailable(unpublished[q][i]);
        }
        unpublishedCount[q] = 0;
        EventFd.write(kickFds[q], 1, count, cs);
    }

    /** One request on queue 0, run to its end. */
    public Done run(int type, long sector, int dataBytes, boolean deviceWrites) {
        request(0, type, sector, 16, dataBytes, dataBytes == 0 ? 0 : 1, deviceWrites);
        return kickAndWait(0);
    }

    /** Hangs up, as a QEMU that exits. */
    public void hangUp() {
        qemu.hangUp();
    }

    @Override
    public void close() {
        qemu.close();
        ram.close();
        for (int q = 0; q < 2; q++) {
            Libc.closeQuietly(kickFds[q]);
            Libc.closeQuietly(callFds[q]);
        }
        arena.close();
    }
}
