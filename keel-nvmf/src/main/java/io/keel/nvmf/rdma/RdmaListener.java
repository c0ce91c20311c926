package io.keel.nvmf.rdma;

import io.keel.nvmf.ctrlr.ListenAddress;
import io.keel.rdma.CmId;

/** One RDMA CM listening id of the transport and the subsystems that use its address. Application thread. */
final class RdmaListener {
    final ListenAddress address;
    final CmId id;
    /** The device the address is on, when the bind found one (a wildcard address has none until a request). */
    final RdmaDevice device;

    RdmaListener(ListenAddress address, CmId id, RdmaDevice device) {
        this.address = address;
        this.id = id;
        this.device = device;
    }
}
