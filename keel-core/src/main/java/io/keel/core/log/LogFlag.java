package io.keel.core.log;

/**
 * One component's debug switch (SPDK's log flags: {@code log_set_flag nvmf_tcp}). Code guards its debug
 * lines with {@link #on()}, a single volatile read.
 */
public final class LogFlag {
    private final String name;
    private volatile boolean on;

    LogFlag(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    public boolean on() {
        return on;
    }

    void set(boolean value) {
        on = value;
    }
}
