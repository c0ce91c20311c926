package io.keel.core.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Keel's logging set up in code (found by logback through the service loader): one stderr appender, the print
 * level's filter ({@code log_set_print_level}), root at INFO. Logback's XML configuration would load an XML parser
 * and its configuration framework first, about half of the launcher's time before the first log line. A file named
 * by {@code -Dlogback.configurationFile} still takes over.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {
    static final String PATTERN = "[%d{yyyy-MM-dd HH:mm:ss.SSS}] %-5level %thread %logger{0}: %msg%n";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        PrintLevelFilter filter = new PrintLevelFilter();
        filter.setContext(context);
        filter.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.addFilter(filter);
        stderr.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(stderr);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
