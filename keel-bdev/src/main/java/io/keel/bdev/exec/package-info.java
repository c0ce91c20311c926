/**
 * A transport-neutral request executor on the bdev layer: what a block target (the NVMe-oF target's I/O queues,
 * vhost-user-blk's virtqueues) needs between decoding a request and answering it — a fixed set of request slots per
 * queue, submission of read, write, compare, write zeroes, flush and unmap (one range or a transport's table of
 * ranges), waits for a bdev_io re-driven in order, a transport-neutral outcome, and a bounded drain. The transport
 * keeps its wire format, its validation and its status codes. Built on the bdev layer's public API only, so it lives
 * beside it rather than in it.
 */
package io.keel.bdev.exec;
