package io.keel.core.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two levels SPDK keeps: the log level (what is recorded: Keel's root logger level) and the print level
 * (what reaches stderr: {@link PrintLevelFilter} on the console appender).
 */
public final class LogLevels {
    private static volatile LogLevel level = LogLevel.NOTICE;
    private static volatile LogLevel printLevel = LogLevel.NOTICE;

    private LogLevels() {
    }

    public static LogLevel level() {
        return level;
    }

    public static void level(LogLevel l) {
        level = l;
        if (LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof Logger root) {
            root.setLevel(l.logback());
        }
    }

    public static LogLevel printLevel() {
        return printLevel;
    }

    public static void printLevel(LogLevel l) {
        printLevel = l;
    }

    static Level printThreshold() {
        return printLevel.logback();
    }

    static boolean printable(Level eventLevel) {
        return eventLevel.isGreaterOrEqual(printThreshold());
    }

}
