/**
 * What the target's transports share: the {@link io.keel.nvmf.transport.Transport} a target holds per trtype, the
 * {@link io.keel.nvmf.transport.TargetQpair} every transport's queue pairs present, the queue state machine each
 * runs on ({@link io.keel.nvmf.transport.QpairCommands}), exact-length views of pool buffers
 * ({@link io.keel.nvmf.transport.BufferViews}), the
 * {@link io.keel.nvmf.transport.QpairRegistry} of bound qpairs per controller (Connect and admin commands,
 * keep-alive, teardown, namespace changes) on the application thread, and the
 * {@link io.keel.nvmf.transport.ForwardedCommand} that carries a qpair's command there and its answer back.
 */
package io.keel.nvmf.transport;
