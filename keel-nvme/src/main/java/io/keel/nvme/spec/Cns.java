package io.keel.nvme.spec;

/** Identify CNS values (NVMe Base 2.0 figure 273) and command set identifiers. */
public final class Cns {
    private Cns() {
    }

    public static final int NAMESPACE = 0x00;
    public static final int CONTROLLER = 0x01;
    public static final int ACTIVE_NAMESPACE_LIST = 0x02;
    public static final int NAMESPACE_ID_DESCRIPTORS = 0x03;
    public static final int NVM_SET_LIST = 0x04;
    public static final int IO_COMMAND_SET_NAMESPACE = 0x05;
    public static final int IO_COMMAND_SET_CONTROLLER = 0x06;
    public static final int IO_COMMAND_SET_ACTIVE_NAMESPACE_LIST = 0x07;
    public static final int ALLOCATED_NAMESPACE_LIST = 0x10;
    public static final int ALLOCATED_NAMESPACE = 0x11;
    public static final int ATTACHED_CONTROLLER_LIST = 0x12;
    public static final int CONTROLLER_LIST = 0x13;
    public static final int IO_COMMAND_SET = 0x1C;

    /** Size of every Identify data structure. */
    public static final int DATA_SIZE = 4096;

    public static final int CSI_NVM = 0x00;
    public static final int CSI_KV = 0x01;
    public static final int CSI_ZNS = 0x02;
}
