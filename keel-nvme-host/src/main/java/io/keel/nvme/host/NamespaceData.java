package io.keel.nvme.host;

import io.keel.nvme.spec.IdentifyNamespace;
import java.util.UUID;

/**
 * One active namespace as Identify Namespace described it: size, block size, its NGUID as a UUID (null when the
 * controller gives none), whether it may be shared (NMIC), its ANA group and preferred I/O boundary.
 */
public record NamespaceData(int nsid, long blocks, int blockSize, UUID uuid, boolean shared, int anagrpid,
        int optimalIoBoundary) {
    static NamespaceData of(int nsid, IdentifyNamespace ns) {
        UUID id = ns.nguidUuid();
        if (id != null && id.getMostSignificantBits() == 0 && id.getLeastSignificantBits() == 0) {
            id = null;
        }
        return new NamespaceData(nsid, ns.nsze(), ns.blockSize(), id, (ns.nmic() & IdentifyNamespace.NMIC_SHARED) != 0,
                ns.anagrpid(), ns.noiob());
    }

    public long sizeBytes() {
        return blocks * blockSize;
    }
}
