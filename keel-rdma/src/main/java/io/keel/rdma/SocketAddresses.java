package io.keel.rdma;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/** {@code struct sockaddr_in} and {@code sockaddr_in6} written for the RDMA CM and read back from a cm id's route. */
final class SocketAddresses {
    private SocketAddresses() {
    }

    /** Writes {@code address} (resolved) at the start of {@code into}, zeroing the rest of the sockaddr. */
    static void write(InetSocketAddress address, MemorySegment into) {
        InetAddress ip = address.getAddress();
        if (ip == null) {
            throw new IllegalArgumentException("unresolved address " + address);
        }
        into.asSlice(0, RdmaAbi.SOCKADDR_STORAGE_BYTES).fill((byte) 0);
        into.set(JAVA_SHORT, RdmaAbi.SOCKADDR_FAMILY, (short) (ip instanceof Inet4Address ? RdmaAbi.AF_INET : RdmaAbi.AF_INET6));
        into.set(JAVA_BYTE, RdmaAbi.SOCKADDR_PORT, (byte) (address.getPort() >>> 8)); // network byte order
        into.set(JAVA_BYTE, RdmaAbi.SOCKADDR_PORT + 1, (byte) address.getPort());
        byte[] bytes = ip.getAddress();
        long at = ip instanceof Inet4Address ? RdmaAbi.SOCKADDR_IN_ADDR : RdmaAbi.SOCKADDR_IN6_ADDR;
        MemorySegment.copy(bytes, 0, into, JAVA_BYTE, at, bytes.length);
        if (ip instanceof Inet6Address v6) {
            into.set(JAVA_INT, RdmaAbi.SOCKADDR_IN6_SCOPE_ID, v6.getScopeId());
        }
    }

    /** Reads a sockaddr back; null for a family other than IPv4 and IPv6 (nothing bound yet). */
    static InetSocketAddress read(MemorySegment from) {
        int family = from.get(JAVA_SHORT, RdmaAbi.SOCKADDR_FAMILY);
        int port = (Byte.toUnsignedInt(from.get(JAVA_BYTE, RdmaAbi.SOCKADDR_PORT)) << 8)
                | Byte.toUnsignedInt(from.get(JAVA_BYTE, RdmaAbi.SOCKADDR_PORT + 1));
        byte[] bytes;
        if (family == RdmaAbi.AF_INET) {
            bytes = from.asSlice(RdmaAbi.SOCKADDR_IN_ADDR, 4).toArray(JAVA_BYTE);
        } else if (family == RdmaAbi.AF_INET6) {
            bytes = from.asSlice(RdmaAbi.SOCKADDR_IN6_ADDR, 16).toArray(JAVA_BYTE);
        } else {
            return null;
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(bytes), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // cannot happen: the length is 4 or 16
        }
    }
}
