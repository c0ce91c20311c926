package io.keel.nvme.tcp;

/** NVMe/TCP PDU types (common header byte 0) and their fixed header lengths. */
public final class PduType {
    public static final int IC_REQ = 0x00;
    public static final int IC_RESP = 0x01;
    public static final int H2C_TERM_REQ = 0x02;
    public static final int C2H_TERM_REQ = 0x03;
    public static final int CAPSULE_CMD = 0x04;
    public static final int CAPSULE_RESP = 0x05;
    public static final int H2C_DATA = 0x06;
    public static final int C2H_DATA = 0x07;
    public static final int R2T = 0x09;

    /** Header length of ICReq and ICResp, which are also their whole PDU length. */
    public static final int IC_HLEN = 128;
    public static final int TERM_REQ_HLEN = 24;
    /** Common header (8) plus the 64-byte submission queue entry. */
    public static final int CAPSULE_CMD_HLEN = 72;
    /** Common header (8) plus the 16-byte completion queue entry. */
    public static final int CAPSULE_RESP_HLEN = 24;
    public static final int DATA_HLEN = 24;
    public static final int R2T_HLEN = 24;
    /** A TermReq carries at most this many bytes of the offending PDU header as its data. */
    public static final int TERM_REQ_MAX_DATA = 128;
    /** Largest header plus header digest the reader ever buffers. */
    public static final int MAX_HEADER_WITH_DIGEST = IC_HLEN + 4;

    private PduType() {
    }

    /** The fixed header length of {@code type}, or -1 for an unknown type. */
    public static int hlen(int type) {
        return switch (type) {
            case IC_REQ, IC_RESP -> IC_HLEN;
            case H2C_TERM_REQ, C2H_TERM_REQ -> TERM_REQ_HLEN;
            case CAPSULE_CMD -> CAPSULE_CMD_HLEN;
            case CAPSULE_RESP -> CAPSULE_RESP_HLEN;
            case H2C_DATA, C2H_DATA -> DATA_HLEN;
            case R2T -> R2T_HLEN;
            default -> -1;
        };
    }

    /** Whether PDUs of this type carry a header digest (and data digest) when they are negotiated. */
    public static boolean digestible(int type) {
        return type == CAPSULE_CMD || type == CAPSULE_RESP || type == H2C_DATA || type == C2H_DATA || type == R2T;
    }

    /** Whether PDUs of this type may carry a data section placed at PDO. */
    public static boolean carriesData(int type) {
        return type == CAPSULE_CMD || type == H2C_DATA || type == C2H_DATA;
    }

    /** Whether a host sends this type to a controller. */
    public static boolean hostToController(int type) {
        return type == IC_REQ || type == H2C_TERM_REQ || type == CAPSULE_CMD || type == H2C_DATA;
    }

    /** Whether a controller sends this type to a host. */
    public static boolean controllerToHost(int type) {
        return type == IC_RESP || type == C2H_TERM_REQ || type == CAPSULE_RESP || type == C2H_DATA || type == R2T;
    }

    public static String name(int type) {
        return switch (type) {
            case IC_REQ -> "ICReq";
            case IC_RESP -> "ICResp";
            case H2C_TERM_REQ -> "H2CTermReq";
            case C2H_TERM_REQ -> "C2HTermReq";
            case CAPSULE_CMD -> "CapsuleCmd";
            case CAPSULE_RESP -> "CapsuleResp";
            case H2C_DATA -> "H2CData";
            case C2H_DATA -> "C2HData";
            case R2T -> "R2T";
            default -> "Unknown(0x" + Integer.toHexString(type) + ")";
        };
    }
}
