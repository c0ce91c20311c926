/**
 * The target side of NVMe/TCP connections, as socket-free state machines: {@link io.keel.nvmf.tcp.TcpQpairConnection}
 * is fed received bytes and writes its PDUs into a {@link io.keel.nvmf.tcp.PduSink}; commands go to a
 * {@link io.keel.nvmf.tcp.CommandHandler} as pooled {@link io.keel.nvmf.tcp.TcpRequest}s. A socket layer (one owner
 * thread per connection, DESIGN R1) drives it.
 */
package io.keel.nvmf.tcp;
