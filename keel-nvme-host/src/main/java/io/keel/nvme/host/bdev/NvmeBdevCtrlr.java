package io.keel.nvme.host.bdev;

import io.keel.bdev.BdevException;
import io.keel.bdev.BdevLayer;
import io.keel.core.thread.KeelThread;
import io.keel.nvme.host.NamespaceData;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A name given to {@code bdev_nvme_attach_controller} (SPDK's {@code nvme_bdev_ctrlr}): its paths (one
 * {@link NvmeCtrlr} per attached transport ID of the same subsystem) and its bdevs, one per namespace, each with a
 * path through every controller that has it. Application thread only, except reads of the lists.
 */
final class NvmeBdevCtrlr {
    private static final Logger LOG = LoggerFactory.getLogger(NvmeBdevCtrlr.class);

    private final String name;
    private final NvmeBdevModule module;
    private final List<NvmeCtrlr> paths = new CopyOnWriteArrayList<>();
    /** Paths being deleted: out of {@link #paths}, not gone yet (the module's shutdown waits for them). */
    private final List<NvmeCtrlr> deleting = new ArrayList<>(1);
    private final Map<Integer, NvmeBdev> bdevs = new ConcurrentSkipListMap<>();

    NvmeBdevCtrlr(String name, NvmeBdevModule module) {
        this.name = name;
        this.module = module;
    }

    String name() {
        return name;
    }

    KeelThread thread() {
        return module.thread();
    }

    List<NvmeCtrlr> paths() {
        return paths;
    }

    /** The paths being deleted now. Application thread. */
    List<NvmeCtrlr> deleting() {
        return deleting;
    }

    Map<Integer, NvmeBdev> bdevs() {
        return bdevs;
    }

    void addPath(NvmeCtrlr c) {
        paths.add(c);
    }

    /** A path that came up: its namespaces become bdevs or new paths of bdevs; answers the bdev names. */
    List<String> attached(NvmeCtrlr c) {
        List<String> names = new ArrayList<>();
        for (NamespaceData ns : c.host().namespaces().values()) {
            NvmeBdev b = addNamespace(c, ns);
            if (b != null) {
                names.add(b.name());
            }
        }
        return names;
    }

    private NvmeBdev addNamespace(NvmeCtrlr c, NamespaceData ns) {
        NvmeNs path = new NvmeNs(c, ns.nsid(), ns);
        NvmeBdev b = bdevs.get(ns.nsid());
        if (b != null && b.removing()) {
            // the namespace is back while its old bdev is still being removed (a holder has not let go yet): the
            // old one is no path to it any more; a new bdev comes once the old one is gone (bdevGone)
            LOG.info("nvme: {} namespace {} is back while {} is still being removed; its new bdev comes after",
                    name, ns.nsid(), b.name());
            return null;
        }
        if (b != null) {
            if (b.pathOf(c) != null) {
                return b;
            }
            if (!Objects.equals(b.uuid(), ns.uuid()) && ns.uuid() != null
                    || b.blockSize() != ns.blockSize() || b.numBlocks() != ns.blocks()) {
                LOG.error("nvme: {} namespace {} through {}:{} is not the namespace of {} (UUID or size differ);"
                        + " not added as a path", name, ns.nsid(), c.trid().traddr(), c.trid().trsvcid(), b.name());
                return null;
            }
            b.addPath(path, () -> { });
            return b;
        }
        b = new NvmeBdev(module, this, path);
        try {
            module.layer().register(b);
        } catch (BdevException e) {
            LOG.error("nvme: cannot register {}: {}", b.name(), e.getMessage());
            return null;
        }
        bdevs.put(ns.nsid(), b);
        return b;
    }

    /** A path saw namespaces come, go or change size. */
    void namespacesChanged(NvmeCtrlr c, List<Integer> added, List<Integer> removed, List<Integer> resized) {
        if (!paths.contains(c)) {
            return; // being deleted
        }
        Map<Integer, NamespaceData> now = c.host().namespaces();
        for (int nsid : added) {
            NamespaceData ns = now.get(nsid);
            if (ns != null) {
                NvmeBdev b = addNamespace(c, ns);
                LOG.info("nvme: {} namespace {} appeared{}", name, nsid, b == null ? "" : ": " + b.name());
            }
        }
        for (int nsid : removed) {
            LOG.info("nvme: {} namespace {} went away", name, nsid);
            removeNamespace(c, nsid, () -> { });
        }
        for (int nsid : resized) {
            NvmeBdev b = bdevs.get(nsid);
            NamespaceData ns = now.get(nsid);
            if (b != null && ns != null) {
                try {
                    module.layer().resize(b, ns.blocks());
                } catch (BdevException e) {
                    LOG.warn("nvme: {} cannot follow the new size of namespace {}: {}", name, nsid, e.getMessage());
                }
            }
        }
    }

    /** Takes {@code c}'s path to namespace {@code nsid} away: the bdev goes with its last path. */
    private void removeNamespace(NvmeCtrlr c, int nsid, Runnable done) {
        NvmeBdev b = bdevs.get(nsid);
        NvmeNs path = b == null ? null : b.pathOf(c);
        if (path == null) {
            done.run();
            return;
        }
        if (b.paths().size() > 1) {
            b.removePath(path, done);
            return;
        }
        b.removing(true);
        module.layer().unregister(b, rc -> {
            if (rc != 0) {
                LOG.error("nvme: {} not removed in time ({}): something still holds it", b.name(), rc);
            }
            done.run();
        });
    }

    /**
     * The bdev was destructed. One removed because its namespace went away gets a successor when a path has the
     * namespace again (it came back meanwhile); one removed otherwise (shutdown, bdev deletion) does not.
     */
    void bdevGone(NvmeBdev b) {
        if (bdevs.remove(b.nsid(), b) && b.removing()) {
            for (NvmeCtrlr c : paths) {
                NamespaceData ns = c.host().namespaces().get(b.nsid());
                if (ns != null) {
                    NvmeBdev again = addNamespace(c, ns);
                    LOG.info("nvme: {} namespace {} came back while its bdev was removed{}", name, b.nsid(),
                            again == null ? "" : ": " + again.name());
                }
            }
        }
        module.forgetIfEmpty(this);
    }

    /**
     * Deletes one path: its namespaces leave their bdevs (a bdev with no other path is unregistered), then the
     * controller goes; {@code done} runs after. A second delete of the same path waits for the first.
     */
    void deletePath(NvmeCtrlr c, Runnable done) {
        if (!paths.remove(c)) {
            c.whenDeleted(done); // already going: wait for it (or done at once when gone)
            return;
        }
        deleting.add(c);
        c.stopForDelete();
        List<Integer> nsids = new ArrayList<>(bdevs.keySet());
        int[] left = {nsids.size() + 1};
        Runnable step = () -> {
            if (--left[0] == 0) {
                c.delete(() -> {
                    deleting.remove(c);
                    module.forgetIfEmpty(this);
                    done.run();
                });
            }
        };
        for (int nsid : nsids) {
            removeNamespace(c, nsid, step);
        }
        step.run();
    }

    /** Resets every path; {@code done} hears null or the first error. */
    void resetAll(Consumer<String> done) {
        List<NvmeCtrlr> all = List.copyOf(paths);
        if (all.isEmpty()) {
            done.accept("no controller left under " + name);
            return;
        }
        int[] left = {all.size()};
        String[] first = {null};
        for (NvmeCtrlr c : all) {
            c.reset(err -> {
                if (err != null && first[0] == null) {
                    first[0] = err;
                }
                if (--left[0] == 0) {
                    done.accept(first[0]);
                }
            });
        }
    }
}
