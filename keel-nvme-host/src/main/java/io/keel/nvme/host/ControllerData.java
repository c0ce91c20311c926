package io.keel.nvme.host;

import io.keel.nvme.spec.IdentifyController;
import io.keel.nvme.spec.Properties;
import io.keel.nvme.spec.Sqe;

/**
 * What a controller told the host when it was brought up: its ID on this association, CAP and VS, the Identify
 * Controller fields the host and its users need, and how many I/O queues it granted. Immutable; published anew
 * by every (re)connect, so other threads read it without a lock.
 */
public record ControllerData(int cntlid, long cap, int vs, int vid, int ssvid, String serialNumber,
        String modelNumber, String firmwareRevision, String subnqn, int cmic, int mdts, int oncs, int nn, int vwc,
        int ioccsz, int icdoff, int kas, int aerl, int oaes, int cntrltype, int anacap, int fuses, int sgls,
        int maxcmd, int oacs, int ioQueuesGranted) {
    public static final int CMIC_MULTI_CONTROLLER = 1 << 1;
    public static final int CMIC_ANA_REPORTING = 1 << 3;

    static ControllerData of(int cntlid, long cap, int vs, IdentifyController id) {
        return new ControllerData(cntlid, cap, vs, id.vid(), id.ssvid(), id.sn().trim(), id.mn().trim(),
                id.fr().trim(), id.subnqn(), id.cmic(), id.mdts(), id.oncs(), id.nn(), id.vwc(), id.ioccsz(),
                id.icdoff(), id.kas(), id.aerl(), id.oaes(), id.cntrltype(), id.anacap(), id.fuses(), id.sgls(),
                id.maxcmd(), id.oacs(), 0);
    }

    ControllerData withQueuesGranted(int n) {
        return new ControllerData(cntlid, cap, vs, vid, ssvid, serialNumber, modelNumber, firmwareRevision, subnqn,
                cmic, mdts, oncs, nn, vwc, ioccsz, icdoff, kas, aerl, oaes, cntrltype, anacap, fuses, sgls, maxcmd,
                oacs, n);
    }

    /** CAP.MQES + 1: the most entries an I/O queue may have. */
    public int maxQueueEntries() {
        return Properties.Cap.mqes(cap) + 1;
    }

    /** Largest transfer in bytes (MDTS, in units of the 4 KiB minimum page size), or 0 for no limit. */
    public long maxTransferBytes() {
        return mdts == 0 ? 0 : 4096L << mdts;
    }

    /** Write data an I/O command may carry in its capsule (IOCCSZ less the SQE; 0 when ICDOFF is not 0). */
    public int ioInCapsuleBytes() {
        return icdoff == 0 ? Math.max(ioccsz * 16 - Sqe.SIZE, 0) : 0;
    }

    public boolean volatileWriteCache() {
        return (vwc & 1) != 0;
    }

    public boolean supports(int oncsBit) {
        return (oncs & oncsBit) != 0;
    }

    public boolean multiController() {
        return (cmic & CMIC_MULTI_CONTROLLER) != 0;
    }

    public boolean anaReporting() {
        return (cmic & CMIC_ANA_REPORTING) != 0;
    }

    /** "major.minor" of VS. */
    public String version() {
        return Properties.versionMajor(vs) + "." + Properties.versionMinor(vs);
    }
}
