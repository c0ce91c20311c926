/**
 * NVMe Base 2.0 / NVM Command Set 1.0 / NVMe-oF 1.1 wire structures as flyweights over
 * {@link java.lang.foreign.MemorySegment} (little-endian): {@link io.keel.nvme.spec.Sqe} with typed
 * command views, {@link io.keel.nvme.spec.Cqe} and {@link io.keel.nvme.spec.Status}, Identify data,
 * log pages (including the Discovery log), Connect data and controller {@link io.keel.nvme.spec.Properties}.
 * Wrapping and numeric accessors never allocate; string accessors (SN/MN/NQNs) do and are meant for
 * the admin path.
 */
package io.keel.nvme.spec;
