package io.keel.nvmf.tcp;

/** Data transfer direction of a command (opcode bits 1:0, or FCTYPE bits 1:0 for Fabrics commands). */
public enum DataDirection {
    NONE, HOST_TO_CONTROLLER, CONTROLLER_TO_HOST
}
