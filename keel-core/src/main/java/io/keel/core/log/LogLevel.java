package io.keel.core.log;

import ch.qos.logback.classic.Level;

/** SPDK's log levels, and what each means to Logback. */
public enum LogLevel {
    ERROR(Level.ERROR), WARNING(Level.WARN), NOTICE(Level.INFO), INFO(Level.INFO), DEBUG(Level.DEBUG);

    private final Level logback;

    LogLevel(Level logback) {
        this.logback = logback;
    }

    Level logback() {
        return logback;
    }
}
