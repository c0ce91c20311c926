package io.keel.vhost.memory;

/**
 * One guest memory region as the front end describes it (vhost-user's {@code VhostUserMemoryRegion}): where it sits
 * in guest-physical space, its size, where the front end (QEMU) has it in its own address space, and where it starts
 * in the file descriptor that comes with it.
 */
public record RegionSpec(long guestPhysAddr, long size, long userAddr, long mmapOffset) {
}
