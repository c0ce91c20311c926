package io.keel.vhost.testing;

import io.keel.vhost.blk.VirtioBlkConfig;
import io.keel.vhost.blk.VirtioBlkFeatures;
import io.keel.vhost.user.VhostUserDevice;
import io.keel.vhost.virtio.Virtqueue;
import io.keel.vhost.virtio.VirtqueueRequest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.ConcurrentLinkedQueue;

/** A virtio-blk-shaped device that keeps the requests it gets for the test to look at and complete (on the thread). */
public final class RecordingDevice implements VhostUserDevice {
    public final ConcurrentLinkedQueue<VirtqueueRequest> requests = new ConcurrentLinkedQueue<>();
    public final VirtioBlkConfig config = new VirtioBlkConfig(Arena.ofAuto()).capacity(2048).segMax(6).blkSize(512)
            .numQueues(2).maxDiscardSectors(1 << 16).maxDiscardSeg(1).discardSectorAlignment(8)
            .maxWriteZeroesSectors(1 << 15).maxWriteZeroesSeg(1).writeZeroesMayUnmap(true);

    @Override
    public long deviceFeatures() {
        return 1L << VirtioBlkFeatures.SEG_MAX | 1L << VirtioBlkFeatures.BLK_SIZE | 1L << VirtioBlkFeatures.FLUSH
                | 1L << VirtioBlkFeatures.MQ | 1L << VirtioBlkFeatures.DISCARD | 1L << VirtioBlkFeatures.WRITE_ZEROES
                | 1L << VirtioBlkFeatures.CONFIG_WCE;
    }

    @Override
    public int maxQueues() {
        return 2;
    }

    @Override
    public int maxSegments() {
        return 8;
    }

    @Override
    public MemorySegment configSpace() {
        return config.bytes();
    }

    @Override
    public int writeConfig(int offset, MemorySegment data) {
        if (offset != 32 || data.byteSize() != 1) {
            return -22;
        }
        config.writeback(data.get(ValueLayout.JAVA_BYTE, 0) != 0);
        return 0;
    }

    @Override
    public void onRequest(Virtqueue queue, VirtqueueRequest request) {
        requests.add(request);
    }
}
