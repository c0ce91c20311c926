package io.keel.nvme.host.bdev;

import io.keel.core.thread.IoDevice;
import io.keel.core.thread.KeelThread;
import io.keel.core.thread.Poller;
import io.keel.core.time.Clock;
import io.keel.nvme.host.ControllerData;
import io.keel.nvme.host.HostController;
import io.keel.nvme.host.HostPollGroup;
import io.keel.nvme.host.TransportId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One path of a named controller (SPDK's {@code nvme_ctrlr}): a {@link HostController} on the application thread,
 * the reconnect policy around it, and an io_device whose per-thread contexts are the I/O queues
 * ({@link NvmeCtrlrChannel}).
 *
 * <p>States, as {@code bdev_nvme_get_controllers} reports them: attaching (not listed), {@code enabled},
 * {@code resetting}, {@code reconnect_is_delayed}, {@code failed}, {@code deleting}. A loss (admin queue lost,
 * keep-alive unanswered, an I/O queue lost on any thread) starts one reset: every thread's queue is disconnected
 * (their commands are retried by their bdev channels), the admin queue reconnects and the controller comes up
 * again, then every thread's queue reconnects with the new controller ID. A reset that fails is retried every
 * {@code reconnect_delay_sec}; I/O waits for it until {@code fast_io_fail_timeout_sec}; after
 * {@code ctrlr_loss_timeout_sec} the path is deleted. Every step is bounded by the host's timeouts, so no state
 * waits for an event that may not come (R5). Application thread only, but {@link #state} and the I/O-facing
 * flags may be read anywhere.
 */
final class NvmeCtrlr implements HostController.Listener {
    enum State {
        ATTACHING("attaching"), ENABLED("enabled"), RESETTING("resetting"), RECONNECT_DELAYED("reconnect_is_delayed"),
        FAILED("failed"), DELETING("deleting"), DELETED("deleted");

        final String wireName;

        State(String wireName) {
            this.wireName = wireName;
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(NvmeCtrlr.class);
    private static final int IO_QUEUE_SIZE = 256;

    private final NvmeBdevModule module;
    private final NvmeBdevCtrlr group;
    private final KeelThread thread;
    private final Clock clock;
    private final HostController host;
    private final ControllerConfig config;
    private final ReconnectPolicy policy;
    private final IoDevice<NvmeCtrlrChannel> channels;
    private final int ioQueueRequests;
    /** Every address of this path, the one in use first at attach (SPDK's failover trids). */
    private final List<TransportId> trids = new CopyOnWriteArrayList<>();

    private volatile State state = State.ATTACHING;
    private volatile boolean fastIoFailed;
    private long lostSinceNanos;
    private Poller reconnectTimer;
    private final List<Consumer<String>> resetWaiters = new ArrayList<>(1);
    private final List<Runnable> deleteWaiters = new ArrayList<>(1);
    private boolean deleteStarted;

    NvmeCtrlr(NvmeBdevModule module, NvmeBdevCtrlr group, HostPollGroup adminGroup, ControllerConfig config) {
        this.module = module;
        this.group = group;
        this.thread = adminGroup.thread();
        this.clock = thread.runtime().clock();
        this.config = config;
        this.policy = config.policy();
        this.ioQueueRequests = module.options().ioQueueRequests();
        this.host = new HostController(adminGroup, config.transport(), config.trid(), config.hostOptions(), this);
        this.trids.add(config.trid());
        NvmeOptions o = module.options();
        long adminUs = o.timeoutAdminUs() > 0 ? o.timeoutAdminUs() : o.timeoutUs();
        if (adminUs > 0) {
            host.adminCommandTimeout(adminUs * 1000, (q, cid, opcode, expiries) -> adminTimedOut(cid, opcode, expiries));
        }
        this.channels = IoDevice.registerDraining("nvme_ctrlr_" + group.name() + "_" + config.trid().traddr() + ":"
                + config.trid().trsvcid(), t -> new NvmeCtrlrChannel(this, t), NvmeCtrlrChannel::release);
    }

    NvmeBdevModule module() {
        return module;
    }

    NvmeBdevCtrlr group() {
        return group;
    }

    KeelThread thread() {
        return thread;
    }

    HostController host() {
        return host;
    }

    ControllerConfig config() {
        return config;
    }

    /** The address in use now. */
    TransportId trid() {
        return host.trid();
    }

    List<TransportId> trids() {
        return trids;
    }

    /** The address in use, as SPDK reports a trid. */
    com.fasterxml.jackson.databind.node.ObjectNode tridJson() {
        return config.withTrid(trid()).tridJson();
    }

    /** The addresses of this path that {@code bdev_nvme_detach_controller}'s filters name. */
    List<TransportId> matching(DetachParams f) {
        return trids.stream().filter(t -> config.withTrid(t).matches(f)).toList();
    }

    /** The addresses not in use now (SPDK's alternate trids). */
    List<TransportId> alternates() {
        TransportId now = host.trid();
        return trids.stream().filter(t -> !t.equals(now)).toList();
    }

    /** A failover address ({@code multipath: "failover"}): used when the one in use is lost. */
    void addTrid(TransportId t) {
        trids.add(t);
        LOG.info("nvme: {} path {}:{} has failover address {}:{}", group.name(), trid().traddr(), trid().trsvcid(),
                t.traddr(), t.trsvcid());
    }

    /**
     * Forgets addresses ({@code bdev_nvme_detach_controller} naming some, not all): when the one in use goes, the
     * path fails over to one left. {@code done} runs once that is decided (not when the failover ends).
     */
    void removeTrids(List<TransportId> gone, Runnable done) {
        boolean current = gone.contains(host.trid());
        trids.removeAll(gone);
        if (current && !trids.isEmpty() && state != State.DELETING && state != State.DELETED) {
            cancelReconnectTimer();
            if (state != State.RESETTING) {
                lostSinceNanos = clock.nanoTime();
                startReset(true);
            }
        }
        done.run();
    }

    IoDevice<NvmeCtrlrChannel> channels() {
        return channels;
    }

    State state() {
        return state;
    }

    int ioQueueSize() {
        return IO_QUEUE_SIZE;
    }

    int ioQueueRequests() {
        return ioQueueRequests;
    }

    /** Whether I/O that finds no queue here should wait (a reconnect may bring it back) rather than fail. */
    boolean ioMayWait() {
        State s = state;
        return (s == State.RESETTING || s == State.RECONNECT_DELAYED || s == State.ATTACHING) && !fastIoFailed;
    }

    /** The controller's data (null before it first came up). */
    ControllerData data() {
        return host.data();
    }

    // ---- attach ----

    /** Brings the controller up; {@code done} hears null or the error. */
    void attach(Consumer<String> done) {
        host.start(err -> {
            if (state != State.ATTACHING) {
                done.accept(err != null ? err : "controller was deleted while attaching");
                return;
            }
            if (err != null) {
                state = State.FAILED;
                done.accept(err);
                return;
            }
            state = State.ENABLED;
            done.accept(null);
        });
    }

    // ---- losses and resets ----

    @Override
    public void lost(HostController c, String reason) {
        lost("controller: " + reason);
    }

    @Override
    public void namespacesChanged(HostController c, List<Integer> added, List<Integer> removed,
            List<Integer> resized) {
        if (state == State.ENABLED || state == State.RESETTING) {
            group.namespacesChanged(this, added, removed, resized);
        }
    }

    /** An I/O queue on {@code where} was lost (sent here from that thread). */
    void ioQueueLost(String where, String reason) {
        lost("I/O queue on " + where + ": " + reason);
    }

    private void lost(String reason) {
        if (state != State.ENABLED) {
            return;
        }
        LOG.warn("nvme: {} path {}:{} lost ({}); resetting", group.name(), trid().traddr(), trid().trsvcid(), reason);
        lostSinceNanos = clock.nanoTime();
        startReset(true);
    }

    /** {@code bdev_nvme_reset_controller} and bdev resets: reconnects now; {@code done} hears null or the error. */
    void reset(Consumer<String> done) {
        switch (state) {
            case ENABLED, FAILED -> {
                LOG.info("nvme: {} path {}:{} resetting (requested)", group.name(), trid().traddr(), trid().trsvcid());
                resetWaiters.add(done);
                startReset(false);
            }
            case RESETTING -> resetWaiters.add(done);
            case RECONNECT_DELAYED -> {
                cancelReconnectTimer();
                resetWaiters.add(done);
                startReset(true);
            }
            default -> done.accept("controller " + group.name() + " is " + state.wireName);
        }
    }

    /** {@code failover}: after a loss, go to the next address when there are several (SPDK's failover). */
    private void startReset(boolean failover) {
        state = State.RESETTING;
        channels.forEachChannel((it, ch) -> ch.context().disconnect(() -> it.next(0)), st -> {
            if (state != State.RESETTING) {
                return;
            }
            HostController.Done bringUp = err -> {
                if (state != State.RESETTING) {
                    return;
                }
                if (err != null) {
                    resetFailed(err);
                    return;
                }
                channels.forEachChannel((it, ch) -> ch.context().connect(it::next), rc -> {
                    if (state != State.RESETTING) {
                        return;
                    }
                    if (rc != 0) {
                        resetFailed("an I/O queue did not reconnect");
                        return;
                    }
                    state = State.ENABLED;
                    lostSinceNanos = 0;
                    fastIoFailed = false;
                    LOG.info("nvme: {} path {}:{} reconnected as cntlid {}", group.name(), trid().traddr(),
                            trid().trsvcid(), host.data().cntlid());
                    finishReset(null);
                });
            };
            TransportId next = failover ? nextTrid() : null;
            if (next != null) {
                host.failover(next, bringUp);
            } else {
                host.reset(bringUp);
            }
        });
    }

    /** The address after the one in use (round the list), or null when there is no other. */
    private TransportId nextTrid() {
        List<TransportId> all = List.copyOf(trids);
        if (all.size() < 2) {
            return all.size() == 1 && !all.get(0).equals(host.trid()) ? all.get(0) : null;
        }
        int at = all.indexOf(host.trid());
        return all.get((at + 1) % all.size());
    }

    private void resetFailed(String err) {
        long now = clock.nanoTime();
        if (lostSinceNanos == 0) {
            lostSinceNanos = now;
        }
        long lostSec = (now - lostSinceNanos) / 1_000_000_000L;
        if (!policy.reconnects()) {
            LOG.warn("nvme: {} path {}:{} failed: {}", group.name(), trid().traddr(), trid().trsvcid(), err);
            state = State.FAILED;
            fastIoFailed = true;
            finishReset(err);
            return;
        }
        if (policy.ctrlrLossTimeoutSec() > 0 && lostSec >= policy.ctrlrLossTimeoutSec()) {
            LOG.warn("nvme: {} path {}:{} not back within ctrlr_loss_timeout_sec {} ({}); deleting it", group.name(),
                    trid().traddr(), trid().trsvcid(), policy.ctrlrLossTimeoutSec(), err);
            fastIoFailed = true;
            state = State.FAILED;
            finishReset(err);
            group.deletePath(this, () -> { });
            return;
        }
        if (policy.fastIoFailTimeoutSec() > 0 && lostSec >= policy.fastIoFailTimeoutSec()) {
            fastIoFailed = true;
        }
        LOG.info("nvme: {} path {}:{} reconnect failed ({}); next try in {} s", group.name(), trid().traddr(),
                trid().trsvcid(), err, policy.reconnectDelaySec());
        state = State.RECONNECT_DELAYED;
        finishReset(err);
        reconnectTimer = thread.registerPoller("nvme_reconnect_delay", () -> {
            cancelReconnectTimer();
            if (state == State.RECONNECT_DELAYED) {
                startReset(true);
            }
            return 1;
        }, policy.reconnectDelaySec() * 1_000_000L);
    }

    private void finishReset(String err) {
        List<Consumer<String>> waiters = List.copyOf(resetWaiters);
        resetWaiters.clear();
        waiters.forEach(w -> w.accept(err));
    }

    private void cancelReconnectTimer() {
        if (reconnectTimer != null) {
            reconnectTimer.unregister();
            reconnectTimer = null;
        }
    }

    // ---- command timeouts (timeout_us, timeout_admin_us, action_on_timeout) ----

    /** An I/O command on {@code where}'s queue {@code qid} is past {@code timeout_us} (sent here from that thread). */
    void ioTimedOut(String where, int qid, int cid, int opcode, int expiries) {
        if (state != State.ENABLED) {
            return;
        }
        String action = module.options().actionOnTimeout();
        if (expiries == 1) {
            LOG.warn("nvme: {} path {}:{}: I/O command {} (opcode 0x{}) on queue {} ({}) timed out; action {}",
                    group.name(), trid().traddr(), trid().trsvcid(), cid, Integer.toHexString(opcode), qid, where,
                    action);
        }
        switch (action) {
            case "abort" -> {
                if (expiries == 1) {
                    host.abort(qid, cid, err -> {
                        if (err != null && state == State.ENABLED) {
                            LOG.warn("nvme: {}: abort of command {} on queue {} did not work ({}); resetting",
                                    group.name(), cid, qid, err);
                            reset(e -> { });
                        }
                    });
                } else {
                    reset(e -> { }); // aborted, yet still outstanding a timeout later
                }
            }
            case "reset" -> {
                if (expiries == 1) {
                    reset(e -> { });
                }
            }
            default -> { }
        }
    }

    private void adminTimedOut(int cid, int opcode, int expiries) {
        if (expiries != 1 || state != State.ENABLED) {
            return;
        }
        String action = module.options().actionOnTimeout();
        LOG.warn("nvme: {} path {}:{}: admin command {} (opcode 0x{}) timed out; action {}", group.name(),
                trid().traddr(), trid().trsvcid(), cid, Integer.toHexString(opcode), action);
        if (!action.equals("none")) {
            reset(e -> { }); // an admin command is not aborted: the controller is reset, as SPDK does
        }
    }

    // ---- delete ----

    /** A delete begins: from now on no I/O is routed here, no reconnect runs, namespace changes are ignored. */
    void stopForDelete() {
        if (state == State.DELETING || state == State.DELETED) {
            return;
        }
        state = State.DELETING;
        fastIoFailed = true;
        cancelReconnectTimer();
        finishReset("controller " + group.name() + " is being deleted");
    }

    /** Runs {@code done} once the path is deleted (at once when it is). */
    void whenDeleted(Runnable done) {
        if (state == State.DELETED) {
            done.run();
        } else {
            deleteWaiters.add(done);
        }
    }

    /**
     * Ends the path once its bdevs have let go of it: every thread's queue goes, the controller shuts down (CC.SHN,
     * bounded); then {@code done} and every {@link #whenDeleted} waiter run. Once.
     */
    void delete(Runnable done) {
        whenDeleted(done);
        if (deleteStarted) {
            return;
        }
        deleteStarted = true;
        stopForDelete();
        channels.unregister(rc -> {
            if (rc != 0) {
                LOG.error("nvme: {} path {}:{}: I/O queues still held after the bound: {}", group.name(),
                        trid().traddr(), trid().trsvcid(), channels.describeHolders());
            }
            host.detach(() -> {
                state = State.DELETED;
                List<Runnable> waiters = List.copyOf(deleteWaiters);
                deleteWaiters.clear();
                waiters.forEach(Runnable::run);
            });
        });
    }

    @Override
    public String toString() {
        return group.name() + " " + trid().traddr() + ":" + trid().trsvcid() + " (" + state.wireName + ")";
    }
}
