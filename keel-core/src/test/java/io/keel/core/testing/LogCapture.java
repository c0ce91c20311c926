package io.keel.core.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Collects what one class logs at a level and above while a test runs, so the test can read the lines. */
public final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final Level level;

    private LogCapture(Class<?> source, Level level) {
        this.level = level;
        logger = (Logger) LoggerFactory.getLogger(source);
        appender.start();
        logger.addAppender(appender);
    }

    public static LogCapture errorsOf(Class<?> source) {
        return new LogCapture(source, Level.ERROR);
    }

    public static LogCapture warningsOf(Class<?> source) {
        return new LogCapture(source, Level.WARN);
    }

    /** The formatted lines at the capture's level or above logged so far. */
    public List<String> lines() {
        synchronized (appender) { // AppenderBase appends under the appender's monitor
            return appender.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(level))
                    .map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
