/**
 * I/O data buffers (SPDK's iobuf): global bounded pools of off-heap buffers, per-thread channels with
 * caches, intrusive waiters re-driven on free and by a retry poller (rule R6), the {@code iobuf} subsystem
 * and its RPCs. Entry points: {@link io.keel.core.iobuf.IoBufSubsystem#of}, {@link io.keel.core.iobuf.IoBuf#channel},
 * {@link io.keel.core.iobuf.IoBufChannel#get}/{@link io.keel.core.iobuf.IoBufChannel#put}.
 */
package io.keel.core.iobuf;
