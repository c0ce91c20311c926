package io.keel.vhost.blk;

import static io.keel.bdev.BdevTestApp.params;
import static org.assertj.core.api.Assertions.assertThat;

import io.keel.vhost.testing.BlkGuest;
import io.keel.vhost.user.VhostUserConnection;
import io.keel.vhost.user.VhostUserMessage;
import io.keel.vhost.user.VhostUserRequest;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A guest's virtio-blk driver (the fake front end) against the device over a 1 MiB malloc bdev: data written lands
 * in the bdev and reads back, over several descriptors and on both queues, also with the header split over two
 * descriptors; discard and write zeroes; GET_ID; bad requests fail alone with the right status; a read-only device;
 * a bdev removed under a running session.
 */
class VirtioBlkDeviceTest {
    @TempDir
    Path dir;
    BlkFixture f;

    @AfterEach
    void stop() throws Exception {
        if (f != null) {
            f.close();
        }
    }

    private BlkFixture start(boolean readonly) {
        f = new BlkFixture(dir, readonly);
        f.guest.bringUp();
        return f;
    }

    private static byte[] pattern(int bytes, long seed) {
        byte[] b = new byte[bytes];
        new Random(seed).nextBytes(b);
        return b;
    }

    private void fill(long gpa, byte[] data) {
        MemorySegment.copy(data, 0, f.guest.guest(gpa, data.length), ValueLayout.JAVA_BYTE, 0, data.length);
    }

    private byte[] guestBytes(long gpa, int bytes) {
        return f.guest.guest(gpa, bytes).toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void writesLandInTheBdevAndReadBackOverSeveralDescriptorsOnBothQueues() {
        start(false);
        for (int q = 0; q < 2; q++) {
            byte[] data = pattern(8192, q);
            long sector = 8 + 64L * q;
            fill(f.guest.request(q, VirtioBlk.T_OUT, sector, 16, data.length, 3, false), data);
            BlkGuest.Done w = f.guest.kickAndWait(q);
            assertThat(w.status()).isEqualTo(VirtioBlk.S_OK);
            assertThat(w.usedLength()).isEqualTo(1);
            assertThat(f.bdevBytes(sector, data.length)).isEqualTo(data);

            long at = f.guest.request(q, VirtioBlk.T_IN, sector, 16, data.length, 4, true);
            BlkGuest.Done r = f.guest.kickAndWait(q);
            assertThat(r.status()).isEqualTo(VirtioBlk.S_OK);
            assertThat(r.usedLength()).isEqualTo(data.length + 1);
            assertThat(guestBytes(at, data.length)).isEqualTo(data);
        }
    }

    @Test
    void aHeaderSplitOverTwoDescriptorsIsReadWhole() {
        start(false);
        byte[] data = pattern(4096, 7);
        long sector = 24;
        fill(f.guest.request(0, VirtioBlk.T_OUT, sector, new int[] {4, 12}, data.length, 1, false), data);
        BlkGuest.Done w = f.guest.kickAndWait(0);
        assertThat(w.status()).isEqualTo(VirtioBlk.S_OK);
        assertThat(f.bdevBytes(sector, data.length)).isEqualTo(data);

        long at = f.guest.request(0, VirtioBlk.T_IN, sector, new int[] {12, 4}, data.length, 1, true);
        BlkGuest.Done r = f.guest.kickAndWait(0);
        assertThat(r.status()).isEqualTo(VirtioBlk.S_OK);
        assertThat(guestBytes(at, data.length)).isEqualTo(data);
    }

    @Test
    void dataSharingADescriptorWithTheHeaderOrTheStatusByteAreCutOut() {
        start(false);
        byte[] data = pattern(8192, 5);
        long sector = 40;
        fill(f.guest.requestSharingDescriptors(0, VirtioBlk.T_OUT, sector, data.length, false), data);
        BlkGuest.Done w = f.guest.kickAndWait(0);
        assertThat(w.status()).isEqualTo(VirtioBlk.S_OK);
        assertThat(f.bdevBytes(sector, data.length)).isEqualTo(data);

        long at = f.guest.requestSharingDescriptors(0, VirtioBlk.T_IN, sector, data.length, true);
        BlkGuest.Done r = f.guest.kickAndWait(0);
        assertThat(r.status()).isEqualTo(VirtioBlk.S_OK);
        assertThat(r.usedLength()).isEqualTo(data.length + 1);
        assertThat(guestBytes(at, data.length)).isEqualTo(data);
    }

    @Test
    void configSpaceAndFeaturesDescribeTheBdev() {
        start(false);
        long features = f.guest.features();
        assertThat(features & 1L << VirtioBlkFeatures.RO).isZero();
        for (int bit : new int[] {VirtioBlkFeatures.SEG_MAX, VirtioBlkFeatures.BLK_SIZE, VirtioBlkFeatures.FLUSH,
                VirtioBlkFeatures.MQ, VirtioBlkFeatures.DISCARD, VirtioBlkFeatures.WRITE_ZEROES}) {
            assertThat(features & 1L << bit).as("feature " + bit).isNotZero();
        }
        f.guest.qemu.payload().fill((byte) 0);
        f.guest.qemu.payload().set(ValueLayout.JAVA_INT_UNALIGNED, 4, VirtioBlkConfig.BYTES);
        f.guest.qemu.send(VhostUserRequest.GET_CONFIG, VhostUserMessage.VERSION, 12 + VirtioBlkConfig.BYTES);
        VirtioBlkConfig c = new VirtioBlkConfig(f.guest.qemu.awaitReply().payload().asSlice(12));
        assertThat(c.capacity()).isEqualTo(BlkFixture.BLOCKS);
        assertThat(c.blkSize()).isEqualTo(512);
        assertThat(c.segMax()).isEqualTo(VirtioBlkDevice.SEG_MAX);
        assertThat(c.numQueues()).isEqualTo(2);
    }

    @Test
    void flushAndGetId() {
        start(false);
        assertThat(f.guest.run(VirtioBlk.T_FLUSH, 0, 0, false).status()).isEqualTo(VirtioBlk.S_OK);
        long at = f.guest.request(0, VirtioBlk.T_GET_ID, 0, 16, VirtioBlk.ID_BYTES, 1, true);
        BlkGuest.Done d = f.guest.kickAndWait(0);
        assertThat(d.status()).isEqualTo(VirtioBlk.S_OK);
        byte[] id = guestBytes(at, VirtioBlk.ID_BYTES);
        byte[] expected = Arrays.copyOf("Malloc0".getBytes(StandardCharsets.US_ASCII), VirtioBlk.ID_BYTES);
        assertThat(id).isEqualTo(expected);
    }

    /** One discard or write zeroes segment at {@code gpa}. */
    private void range(long gpa, long sector, int sectors, int flags) {
        MemorySegment r = f.guest.guest(gpa, 16);
        r.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, sector);
        r.set(ValueLayout.JAVA_INT_UNALIGNED, 8, sectors);
        r.set(ValueLayout.JAVA_INT_UNALIGNED, 12, flags);
    }

    @Test
    void discardAndWriteZeroesClearTheirRanges() {
        start(false);
        byte[] data = pattern(16 * 512, 7);
        fill(f.guest.request(0, VirtioBlk.T_OUT, 100, 16, data.length, 1, false), data);
        assertThat(f.guest.kickAndWait(0).status()).isEqualTo(VirtioBlk.S_OK);

        long table = f.guest.request(0, VirtioBlk.T_WRITE_ZEROES, 0, 16, 32, 1, false);
        range(table, 100, 2, VirtioBlk.RANGE_F_UNMAP);
        range(table + 16, 104, 4, 0);
        assertThat(f.guest.kickAndWait(0).status()).isEqualTo(VirtioBlk.S_OK);
        byte[] now = f.bdevBytes(100, data.length);
        assertThat(Arrays.copyOfRange(now, 0, 1024)).containsOnly(0);
        assertThat(Arrays.copyOfRange(now, 1024, 2048)).isEqualTo(Arrays.copyOfRange(data, 1024, 2048));
        assertThat(Arrays.copyOfRange(now, 2048, 4096)).containsOnly(0);
        assertThat(Arrays.copyOfRange(now, 4096, 8192)).isEqualTo(Arrays.copyOfRange(data, 4096, 8192));

        table = f.guest.request(0, VirtioBlk.T_DISCARD, 0, 16, 16, 1, false);
        range(table, 108, 8, 0);
        assertThat(f.guest.kickAndWait(0).status()).isEqualTo(VirtioBlk.S_OK);
        assertThat(Arrays.copyOfRange(f.bdevBytes(100, data.length), 4096, 8192)).containsOnly(0);
    }

    @Test
    void badRequestsFailAloneWithTheirStatus() {
        start(false);
        // a header shorter than 16 bytes
        f.guest.request(0, VirtioBlk.T_IN, 0, 8, 512, 1, true);
        assertThat(f.guest.kickAndWait(0).status()).isEqualTo(VirtioBlk.S_IOERR);
        // data not a multiple of 512
        assertThat(f.guest.run(VirtioBlk.T_IN, 0, 500, true).status()).isEqualTo(VirtioBlk.S_IOERR);
        assertThat(f.guest.run(VirtioBlk.T_OUT, 0, 700, false).status()).isEqualTo(VirtioBlk.S_IOERR);
        // past the end, and an end that wraps
        assertThat(f.guest.run(VirtioBlk.T_IN, BlkFixture.BLOCKS - 1, 1024, true).status()).isEqualTo(VirtioBlk.S_IOERR);
        assertThat(f.guest.run(VirtioBlk.T_OUT, -1L, 512, false).status()).isEqualTo(VirtioBlk.S_IOERR);
        // an unknown type
        assertThat(f.guest.run(99, 0, 0, false).status()).isEqualTo(VirtioBlk.S_UNSUPP);
        // discard with a flag, write zeroes past the end, a table not whole entries
        long table = f.guest.request(0, VirtioBlk.T_DISCARD, 0, 16, 16, 1, false);
        range(table, 0, 8, VirtioBlk.RANGE_F_UNMAP);
        assertThat(f.guest.kickAndWait(0).status()).isEqualTo(VirtioBlk.S_UNSUPP);
        table = f.guest.request(0, VirtioBlk.T_WRITE_ZEROES, 0, 16, 16, 1, false);
        range(table, BlkFixture.BLOCKS - 4, 8, 0);
        assertThat(f.guest.kickAndWait(0).status()).isEqualTo(VirtioBlk.S_IOERR);
        assertThat(f.guest.run(VirtioBlk.T_DISCARD, 0, 24, false).status()).isEqualTo(VirtioBlk.S_IOERR);
        // the session goes on
        assertThat(f.guest.run(VirtioBlk.T_IN, 0, 512, true).status()).isEqualTo(VirtioBlk.S_OK);
        assertThat(f.device.badRequests()).isEqualTo(9);
    }

    @Test
    void aReadOnlyDeviceRefusesWritesAndReads() {
        start(true);
        assertThat(f.guest.features() & 1L << VirtioBlkFeatures.RO).isNotZero();
        assertThat(f.guest.features() & 1L << VirtioBlkFeatures.DISCARD).isZero();
        assertThat(f.guest.run(VirtioBlk.T_OUT, 0, 512, false).status()).isEqualTo(VirtioBlk.S_IOERR);
        long table = f.guest.request(0, VirtioBlk.T_WRITE_ZEROES, 0, 16, 16, 1, false);
        range(table, 0, 8, 0);
        assertThat(f.guest.kickAndWait(0).status()).isEqualTo(VirtioBlk.S_IOERR);
        assertThat(f.guest.run(VirtioBlk.T_IN, 0, 4096, true).status()).isEqualTo(VirtioBlk.S_OK);
    }

    @Test
    void aRemovedBdevFailsNewRequestsAndTheSessionStays() {
        start(false);
        assertThat(f.guest.run(VirtioBlk.T_IN, 0, 4096, true).status()).isEqualTo(VirtioBlk.S_OK);
        assertThat(f.t.rpc("bdev_malloc_delete", params("name", "Malloc0")).asBoolean()).isTrue();
        assertThat(f.guest.run(VirtioBlk.T_IN, 0, 4096, true).status()).isEqualTo(VirtioBlk.S_IOERR);
        assertThat(f.guest.run(VirtioBlk.T_OUT, 0, 4096, false).status()).isEqualTo(VirtioBlk.S_IOERR);
        assertThat(f.connection.state()).isEqualTo(VhostUserConnection.State.READY);
    }
}
