package io.keel.vhost.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import io.keel.core.sys.Libc;
import io.keel.vhost.testing.GuestRam;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A memory table maps the front end's regions in place and translates addresses only inside them. */
class GuestMemoryTest {
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment cs = Libc.callState(arena);
    private final GuestRam ram = new GuestRam(0x10_0000, 1 << 20);

    @AfterEach
    void close() {
        ram.close();
        arena.close();
    }

    @Test
    void twoRegionsOfOneFdAtAnOffsetAreMappedInPlaceAndTranslatedBothWays() {
        // like QEMU's RAM below and above a hole: one memfd, the second region from an offset that is not page aligned
        RegionSpec low = ram.region(0, 0x4_0000);
        RegionSpec high = new RegionSpec(0x1_0000_0000L, 0x8_0000 - 0x100, 0x7e00_0000_0000L, 0x8_0100);
        GuestMemory m = GuestMemory.map(List.of(low, high), new int[] {ram.fd(), ram.fd()}, cs);
        ram.bytes().set(ValueLayout.JAVA_LONG, 0x1000, 0x1122334455667788L);
        ram.bytes().set(ValueLayout.JAVA_LONG, 0x8_0100 + 0x40, 42L);

        int r = m.regionOfGuest(0x10_1000);
        assertThat(r).isZero();
        assertThat(m.region(r).get(ValueLayout.JAVA_LONG, 0x10_1000 - m.guestStart(r))).isEqualTo(0x1122334455667788L);
        int h = m.regionOfGuest(0x1_0000_0040L);
        assertThat(h).isEqualTo(1);
        assertThat(m.region(h).get(ValueLayout.JAVA_LONG, 0x40)).as("same memory, seen at the offset").isEqualTo(42L);
        m.region(h).set(ValueLayout.JAVA_INT, 0x80, 7);
        assertThat(ram.bytes().get(ValueLayout.JAVA_INT, 0x8_0100 + 0x80)).as("written in place").isEqualTo(7);

        assertThat(m.userRange(GuestRam.qemuVa(0x10_1000), 8).get(ValueLayout.JAVA_LONG, 0)).isEqualTo(0x1122334455667788L);
        assertThat(m.userRange(0x7e00_0000_0040L, 8).get(ValueLayout.JAVA_LONG, 0)).isEqualTo(42L);
        assertThat(m.guestRange(0x1_0000_0040L, 8).get(ValueLayout.JAVA_LONG, 0)).isEqualTo(42L);
        assertThat(m.describe()).as("the log line").isEqualTo(
                "2 regions: 0x100000 +256 KiB (4 KiB pages), 0x100000000 +511 KiB (4 KiB pages)");
        m.retire(cs);
        assertThat(m.unmapped()).isTrue();
    }

    @Test
    void addressesOutsideEveryRegionOrRangesCrossingARegionEndDoNotTranslate() {
        GuestMemory m = GuestMemory.map(List.of(ram.region(0, 0x1000)), new int[] {ram.fd()}, cs);

        assertThat(m.regionOfGuest(0x10_0000 - 1)).isEqualTo(-1);
        assertThat(m.regionOfGuest(0x10_1000)).isEqualTo(-1);
        assertThat(m.regionOfGuest(0x10_0fff)).isZero();
        assertThat(m.userRange(GuestRam.qemuVa(0x10_0ff0), 0x10)).isNotNull();
        assertThat(m.userRange(GuestRam.qemuVa(0x10_0ff0), 0x11)).as("one byte past the end").isNull();
        assertThat(m.userRange(GuestRam.qemuVa(0x10_0000) - 1, 1)).isNull();
        assertThat(m.guestRange(0x10_0ff8, 16)).isNull();
        assertThat(m.guestRange(-8, 16)).as("wraps around").isNull();
        m.retire(cs);
    }

    @Test
    void overlappingEmptyOrTooManyRegionsAreRefused() {
        int[] fds = {ram.fd(), ram.fd()};
        assertThatIllegalArgumentException().isThrownBy(() -> GuestMemory.map(
                List.of(ram.region(0, 0x2000), ram.region(0x1000, 0x2000)), fds, cs)).withMessageContaining("overlap");
        assertThatIllegalArgumentException().isThrownBy(() -> GuestMemory.map(List.of(ram.region(0, 0)),
                fds, cs)).withMessageContaining("empty");
        assertThatIllegalArgumentException().isThrownBy(() -> GuestMemory.map(List.of(), fds, cs));
        assertThatIllegalArgumentException().isThrownBy(() -> GuestMemory.map(
                List.of(new RegionSpec(0, 1 << 20, 0, 1L << 40)), new int[] {ram.fd()}, cs))
                .withMessageContaining("past the end of its fd");
        assertThatIllegalArgumentException().isThrownBy(() -> GuestMemory.map(
                List.of(ram.region(0x1000, 1 << 20)), new int[] {ram.fd()}, cs))
                .as("one page too far").withMessageContaining("past the end of its fd");
    }

    @Test
    void aRetiredTableIsUnmappedOnlyWhenTheLastRequestPointingIntoItLetsGo() {
        GuestMemory m = GuestMemory.map(List.of(ram.region()), new int[] {ram.fd()}, cs);
        m.acquire();
        m.acquire();

        m.retire(cs);
        assertThat(m.unmapped()).isFalse();
        m.release(cs);
        assertThat(m.unmapped()).isFalse();
        m.release(cs);
        assertThat(m.unmapped()).isTrue();
    }
}
