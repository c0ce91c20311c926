package io.keel.vhost;

import io.keel.bdev.BdevLayer;
import io.keel.core.app.KeelApp;
import io.keel.core.rpc.Errno;
import io.keel.core.thread.CpuMask;
import io.keel.core.thread.KeelThread;
import io.keel.vhost.blk.BlkController;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * The application's vhost controllers by name, and the folder of their sockets ({@code -S}). Owned by the
 * application thread: every method runs there; a controller's own work runs on its thread.
 */
public final class VhostTarget {
    private final KeelApp app;
    private final Path socketDir;
    private final Map<String, BlkController> controllers = new LinkedHashMap<>();

    VhostTarget(KeelApp app) {
        this.app = app;
        this.socketDir = app.options().vhostSocketDir().toAbsolutePath();
    }

    public Path socketDir() {
        return socketDir;
    }

    /** The controller of that name, being deleted or not; null if none. */
    public BlkController controller(String name) {
        return controllers.get(name);
    }

    public List<BlkController> controllers() {
        return new ArrayList<>(controllers.values());
    }

    /**
     * Creates a vhost-blk controller on a thread of {@code cpumask} (null: the application's cores) and starts it:
     * {@code done} hears 0 or {@code -errno} (-EEXIST for a name in use, -EINVAL for a cpumask outside the
     * application's cores, -ENODEV for no such bdev) on the application thread.
     */
    public void createBlk(String name, String bdevName, boolean readonly, String cpumask, IntConsumer done) {
        if (controllers.containsKey(name)) {
            done.accept(-Errno.EEXIST);
            return;
        }
        CpuMask mask;
        try {
            mask = cpumask == null ? app.options().cores()
                    : CpuMask.parse(cpumask).intersect(app.options().cores());
        } catch (IllegalArgumentException e) {
            done.accept(-Errno.EINVAL);
            return;
        }
        if (mask.isEmpty() || cpumask != null && !mask.equals(CpuMask.parse(cpumask))) {
            done.accept(-Errno.EINVAL);
            return;
        }
        KeelThread thread = app.runtime().createThread("vhost_" + name, mask);
        BlkController c = new BlkController(name, bdevName, readonly, mask, socketDir.resolve(name), thread,
                BdevLayer.of(app));
        controllers.put(name, c); // reserves the name while it starts
        c.start(rc -> app.onAppThread(() -> {
            if (rc != 0) {
                controllers.remove(name);
            }
            done.accept(rc);
        }));
    }

    /**
     * Deletes controller {@code c}; {@code done} hears 0 on the application thread once it is gone, or -EBUSY at once
     * when a running VM uses it and {@code force} is not set ({@link BlkController#delete}).
     */
    public void delete(BlkController c, boolean force, IntConsumer done) {
        c.delete(force, rc -> app.onAppThread(() -> {
            if (rc == 0) {
                controllers.remove(c.name(), c);
            }
            done.accept(rc);
        }));
    }

    /** Deletes every controller, ending the sessions that run (the application is stopping), then {@code done}. */
    void deleteAll(Runnable done) {
        List<BlkController> all = controllers();
        if (all.isEmpty()) {
            done.run();
            return;
        }
        int[] left = {all.size()};
        for (BlkController c : all) {
            delete(c, true, rc -> {
                if (--left[0] == 0) {
                    done.run();
                }
            });
        }
    }
}
