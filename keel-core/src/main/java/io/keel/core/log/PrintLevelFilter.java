package io.keel.core.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;

/** Lets through to stderr only events at or above the print level ({@code log_set_print_level}). */
public final class PrintLevelFilter extends Filter<ILoggingEvent> {
    @Override
    public FilterReply decide(ILoggingEvent event) {
        return LogLevels.printable(event.getLevel()) ? FilterReply.NEUTRAL : FilterReply.DENY;
    }
}
