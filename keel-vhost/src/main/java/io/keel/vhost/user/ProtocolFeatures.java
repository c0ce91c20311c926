package io.keel.vhost.user;

/**
 * vhost-user protocol feature bits (GET/SET_PROTOCOL_FEATURES) and the virtio feature bit that announces them.
 * Keel offers {@link #OFFERED}: multiqueue, REPLY_ACK, the config space, the inflight region, and the device reset and
 * status messages QEMU 7.2 and later send around start, stop and reset.
 */
public final class ProtocolFeatures {
    /** VHOST_USER_F_PROTOCOL_FEATURES, a virtio feature bit (GET/SET_FEATURES). */
    public static final int VHOST_USER_F_PROTOCOL_FEATURES = 30;

    public static final int MQ = 0;
    public static final int REPLY_ACK = 3;
    public static final int CONFIG = 9;
    public static final int INFLIGHT_SHMFD = 12;
    public static final int RESET_DEVICE = 13;
    public static final int STATUS = 16;

    public static final long OFFERED = 1L << MQ | 1L << REPLY_ACK | 1L << CONFIG | 1L << INFLIGHT_SHMFD
            | 1L << RESET_DEVICE | 1L << STATUS;

    private ProtocolFeatures() {
    }
}
