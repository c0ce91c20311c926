/**
 * The NVMe-oF target (SPDK's {@code lib/nvmf}): the {@link io.keel.nvmf.Target}, its transports and subsystems,
 * namespaces over claimed bdevs, host allow lists, and the "nvmf" subsystem's config. This is the management plane
 * only: listeners, controllers, qpairs, poll groups and the TCP data path come later, and their RPCs are not
 * registered until they exist.
 */
package io.keel.nvmf;
