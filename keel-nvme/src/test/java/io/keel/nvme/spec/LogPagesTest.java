package io.keel.nvme.spec;

import static io.keel.nvme.spec.Bytes.le;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class LogPagesTest {

    @Test
    void errorInformationEntries() {
        byte[] d = new byte[128];
        ErrorLogEntry e = new ErrorLogEntry().wrapEntry(MemorySegment.ofArray(d), 1);
        e.errorCount(42).sqid(1).cid(0x33).statusField(Status.field(Status.LBA_OUT_OF_RANGE, true))
                .parameterErrorLocation(40, 3).lba(0x1_0000_0000L).nsid(2).transportType(DiscoveryLog.TRTYPE_TCP)
                .commandSpecificInfo(9).transportTypeSpecificInfo(5);
        assertThat(le(d, 64, 8)).isEqualTo(42);
        assertThat(le(d, 72, 2)).isEqualTo(1);
        assertThat(le(d, 74, 2)).isEqualTo(0x33);
        assertThat(le(d, 76, 2)).isEqualTo(0x8100);
        assertThat(le(d, 78, 2)).isEqualTo(40 | 3 << 8);
        assertThat(le(d, 80, 8)).isEqualTo(0x1_0000_0000L);
        assertThat(le(d, 88, 4)).isEqualTo(2);
        assertThat(d[93]).isEqualTo((byte) 3);
        assertThat(le(d, 96, 8)).isEqualTo(9);
        assertThat(le(d, 104, 2)).isEqualTo(5);
        assertThat(le(d, 0, 8)).as("entry 0 untouched").isZero();
        assertThat(e.errorCount()).isEqualTo(42);
        assertThat(e.nsid()).isEqualTo(2);
    }

    @Test
    void smartHealthLog() {
        byte[] d = new byte[512];
        java.util.Arrays.fill(d, (byte) 0xEE);
        SmartLog s = new SmartLog().wrap(MemorySegment.ofArray(d)).clear()
                .criticalWarning(SmartLog.CW_SPARE | SmartLog.CW_READ_ONLY).compositeTemperature(310)
                .availableSpare(100).availableSpareThreshold(10).percentageUsed(3)
                .dataUnitsRead(SmartLog.dataUnits(1_024_000)).dataUnitsWritten(7).hostReadCommands(123456)
                .hostWriteCommands(654321).controllerBusyTime(11).powerCycles(12).powerOnHours(13)
                .unsafeShutdowns(14).mediaErrors(15).errorLogEntries(16).warningTemperatureTime(17)
                .criticalTemperatureTime(18).temperatureSensor(1, 300).temperatureSensor(8, 301);
        assertThat(d[0]).isEqualTo((byte) 0x09);
        assertThat(le(d, 1, 2)).isEqualTo(310);
        assertThat(d[3]).isEqualTo((byte) 100);
        assertThat(d[4]).isEqualTo((byte) 10);
        assertThat(d[5]).isEqualTo((byte) 3);
        assertThat(le(d, 32, 8)).isEqualTo(2); // 2000 512-byte units -> 2 data units
        assertThat(le(d, 40, 8)).as("high half of 128-bit counter").isZero();
        assertThat(le(d, 48, 8)).isEqualTo(7);
        assertThat(le(d, 64, 8)).isEqualTo(123456);
        assertThat(le(d, 80, 8)).isEqualTo(654321);
        assertThat(le(d, 96, 8)).isEqualTo(11);
        assertThat(le(d, 112, 8)).isEqualTo(12);
        assertThat(le(d, 128, 8)).isEqualTo(13);
        assertThat(le(d, 144, 8)).isEqualTo(14);
        assertThat(le(d, 160, 8)).isEqualTo(15);
        assertThat(le(d, 176, 8)).isEqualTo(16);
        assertThat(le(d, 192, 4)).isEqualTo(17);
        assertThat(le(d, 196, 4)).isEqualTo(18);
        assertThat(le(d, 200, 2)).isEqualTo(300);
        assertThat(le(d, 214, 2)).isEqualTo(301);
        assertThat(d[511]).isZero();
        assertThat(SmartLog.dataUnits(0)).isZero();
        assertThat(SmartLog.dataUnits(1)).isEqualTo(1);
        assertThat(SmartLog.dataUnits(512_000)).isEqualTo(1);
        assertThat(SmartLog.dataUnits(512_001)).isEqualTo(2);
        assertThat(s.hostReadCommands()).isEqualTo(123456);
    }

    @Test
    void firmwareSlotInformation() {
        byte[] d = new byte[512];
        FirmwareSlotLog f = new FirmwareSlotLog().wrap(MemorySegment.ofArray(d)).afi(1, 0).revision(1, "26.05");
        assertThat(d[0]).isEqualTo((byte) 1);
        assertThat(Bytes.ascii(d, 8, 8)).isEqualTo("26.05   ");
        assertThat(f.activeSlot()).isEqualTo(1);
        assertThat(f.revision(1)).isEqualTo("26.05");
        f.afi(2, 3).revision(7, "ABCDEFGH");
        assertThat(d[0]).isEqualTo((byte) 0x32);
        assertThat(Bytes.ascii(d, 56, 8)).isEqualTo("ABCDEFGH");
        assertThatThrownBy(() -> f.revision(0, "x")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void commandsSupportedAndEffectsLikeSpdk() {
        byte[] d = new byte[4096];
        CommandEffectsLog l = new CommandEffectsLog().wrap(MemorySegment.ofArray(d));
        for (int op : new int[] {Opcode.GET_LOG_PAGE, Opcode.IDENTIFY, Opcode.ABORT, Opcode.SET_FEATURES,
                Opcode.GET_FEATURES, Opcode.ASYNC_EVENT_REQUEST, Opcode.KEEP_ALIVE}) {
            l.admin(op, CommandEffectsLog.CSUPP);
        }
        l.io(Opcode.FLUSH, CommandEffectsLog.CSUPP | CommandEffectsLog.LBCC);
        l.io(Opcode.WRITE, CommandEffectsLog.CSUPP | CommandEffectsLog.LBCC);
        l.io(Opcode.READ, CommandEffectsLog.CSUPP);
        l.io(Opcode.COPY, CommandEffectsLog.CSUPP | CommandEffectsLog.LBCC);
        assertThat(le(d, 0x06 * 4, 4)).isEqualTo(1);
        assertThat(le(d, 0x18 * 4, 4)).isEqualTo(1);
        assertThat(le(d, 1024, 4)).isEqualTo(3);
        assertThat(le(d, 1024 + 4, 4)).isEqualTo(3);
        assertThat(le(d, 1024 + 8, 4)).isEqualTo(1);
        assertThat(le(d, 1024 + 0x19 * 4, 4)).isEqualTo(3);
        assertThat(l.io(Opcode.COMPARE)).isZero();
    }

    @Test
    void changedNamespaceList() {
        byte[] d = new byte[4096];
        NamespaceIdList l = new NamespaceIdList().wrap(MemorySegment.ofArray(d)).fillChanged(new int[] {3, 7}, 2);
        assertThat(le(d, 0, 4)).isEqualTo(3);
        assertThat(le(d, 4, 4)).isEqualTo(7);
        assertThat(l.count()).isEqualTo(2);
    }
}
