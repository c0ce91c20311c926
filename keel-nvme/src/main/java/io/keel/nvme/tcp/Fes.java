package io.keel.nvme.tcp;

/**
 * Fatal Error Status values carried by H2CTermReq / C2HTermReq, as the NVMe/TCP transport specification
 * (1.0a, "Fatal Error Status" figure) numbers them and as the Linux kernel ({@code nvme_tcp_fatal_error_status})
 * and SPDK ({@code spdk_nvme_tcp_term_req_fes}) send them. Note the spec gives 05h two names (data transfer
 * limit exceeded, R2T limit exceeded).
 *
 * <p>The spec defines FEI (the offset of the offending field) for {@link #INVALID_HEADER_FIELD}; the reader
 * reports an offset for every error as a diagnostic.
 */
public final class Fes {
    public static final int NONE = 0x00;
    public static final int INVALID_HEADER_FIELD = 0x01;
    public static final int PDU_SEQUENCE_ERROR = 0x02;
    public static final int HEADER_DIGEST_ERROR = 0x03;
    public static final int DATA_TRANSFER_OUT_OF_RANGE = 0x04;
    public static final int DATA_TRANSFER_LIMIT_EXCEEDED = 0x05;
    public static final int R2T_LIMIT_EXCEEDED = 0x05;
    public static final int UNSUPPORTED_PARAMETER = 0x06;

    private Fes() {
    }

    public static String name(int fes) {
        return switch (fes) {
            case NONE -> "none";
            case INVALID_HEADER_FIELD -> "invalid PDU header field";
            case PDU_SEQUENCE_ERROR -> "PDU sequence error";
            case HEADER_DIGEST_ERROR -> "header digest error";
            case DATA_TRANSFER_OUT_OF_RANGE -> "data transfer out of range";
            case DATA_TRANSFER_LIMIT_EXCEEDED -> "data transfer limit exceeded / R2T limit exceeded";
            case UNSUPPORTED_PARAMETER -> "unsupported parameter";
            default -> "reserved(0x" + Integer.toHexString(fes) + ")";
        };
    }
}
