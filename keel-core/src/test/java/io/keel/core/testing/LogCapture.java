package io.keel.core.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Collects what one logger (a class or a package) logs while a test runs, so the test can check it says why. */
public final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final Level level;

    private LogCapture(String name, Level level) {
        this.level = level;
        logger = (Logger) LoggerFactory.getLogger(name);
        appender.start();
        logger.addAppender(appender);
    }

    /** Everything the logger named {@code name} (and its children) logs. */
    public static LogCapture of(String name) {
        return new LogCapture(name, Level.TRACE);
    }

    public static LogCapture of(Class<?> source) {
        return of(source.getName());
    }

    public static LogCapture errorsOf(Class<?> source) {
        return new LogCapture(source.getName(), Level.ERROR);
    }

    public static LogCapture warningsOf(Class<?> source) {
        return new LogCapture(source.getName(), Level.WARN);
    }

    /** The formatted lines at the capture's level or above logged so far. */
    public List<String> lines() {
        return messages(level);
    }

    /** The formatted lines at {@code atLeast} or above logged so far. */
    public List<String> messages(Level atLeast) {
        synchronized (appender) { // AppenderBase appends under the appender's monitor
            return appender.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(atLeast))
                    .map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
