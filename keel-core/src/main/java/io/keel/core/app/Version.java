package io.keel.core.app;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Keel's version, from the build, in the shape of SPDK's {@code spdk_get_version}. */
public record Version(String version, Fields fields) {
    public record Fields(int major, int minor, int patch, String suffix) {
    }

    public static Version current() {
        String v = "0.0.0";
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                v = p.getProperty("version", v);
            }
        } catch (IOException ignored) {
            // keep the fallback: a version is informational
        }
        Matcher m = Pattern.compile("(\\d+)\\.(\\d+)\\.(\\d+)(.*)").matcher(v);
        Fields f = m.matches()
                ? new Fields(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)), m.group(4))
                : new Fields(0, 0, 0, v);
        return new Version("Keel v" + v, f);
    }
}
