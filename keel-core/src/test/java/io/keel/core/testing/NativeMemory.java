package io.keel.core.testing;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * What this JVM holds outside the heap, read without forcing a garbage collection: Native Memory Tracking's
 * "Other" category (what {@code Arena} allocations and direct ByteBuffers take; the surefire argLine turns NMT
 * on) and the direct buffer pool. Churn tests read it before and after, so memory left to the GC shows up.
 */
public final class NativeMemory {
    private static final Pattern OTHER = Pattern.compile("-\\s+Other \\(reserved=(\\d+)KB, committed=(\\d+)KB\\)");

    private NativeMemory() {
    }

    /** Whether NMT runs in this JVM ({@code -XX:NativeMemoryTracking=summary}). */
    public static boolean tracked() {
        return nmtSummary().contains("Total:");
    }

    /** Committed bytes in NMT's "Other" category (Unsafe/FFM/direct-buffer memory); -1 without NMT. */
    public static long otherCommitted() {
        Matcher m = OTHER.matcher(nmtSummary());
        return m.find() ? Long.parseLong(m.group(2)) * 1024 : -1;
    }

    /** Bytes held by direct ByteBuffers not yet freed (a buffer dropped but not collected still counts). */
    public static long directBuffers() {
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (b.getName().equals("direct")) {
                return b.getMemoryUsed();
            }
        }
        return 0;
    }

    /** NMT's summary report, as {@code jcmd PID VM.native_memory summary} prints it ("" without NMT). */
    public static String nmtSummary() {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName name = new ObjectName("com.sun.management:type=DiagnosticCommand");
            Object out = server.invoke(name, "vmNativeMemory", new Object[] {new String[] {"summary"}},
                    new String[] {String[].class.getName()});
            return String.valueOf(out);
        } catch (Exception e) {
            return "";
        }
    }
}
