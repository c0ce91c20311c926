package io.keel.vhost.initiator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What of a controller's shared memory this process still has: its memfd's mappings and open fds. */
final class SharedMemoryMaps {
    private SharedMemoryMaps() {
    }

    /** Whether nothing of controller {@code name}'s memfd is left in this process. */
    static boolean released(String name) {
        return mappings(name) == 0 && fds(name) == 0;
    }

    /** Mappings of controller {@code name}'s memfd in this process (the initiator's and an in-process target's). */
    static long mappings(String name) {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                    .filter(l -> l.contains("memfd:keel-virtio-" + name + " ")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Open fds of this process on controller {@code name}'s memfd. */
    static long fds(String name) {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().startsWith("/memfd:keel-virtio-" + name + " ");
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            }).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
