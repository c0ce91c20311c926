/**
 * NVMe/TCP transport PDUs (NVMe/TCP transport binding, TP 8000): flyweights over {@code MemorySegment}s
 * ({@link io.keel.nvme.tcp.TcpPdu} and one subclass per PDU type), {@link io.keel.nvme.tcp.PduEncoder}
 * which writes complete PDUs into a caller's buffer, and {@link io.keel.nvme.tcp.PduReader}, a
 * streaming decoder fed with bytes in any split. Nothing here allocates per PDU.
 */
package io.keel.nvme.tcp;
