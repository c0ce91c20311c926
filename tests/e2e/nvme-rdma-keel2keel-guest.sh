#!/bin/bash
# GUEST script (run it with ../shared/guest/guest-run.sh from the repository root): Keel's NVMe-oF RDMA host against
# Keel's NVMe-oF RDMA target, two Keel processes in this guest on Soft-RoCE (rxe0 on eth0, 10.0.2.15). The target
# (`keel start`, interrupt mode, one core) exports a 64 MiB brd RAM disk through a uring bdev, so the data outlives
# the target process across the restart below; the host is `keel bdevperf` attaching it with
# bdev_nvme_attach_controller trtype RDMA, num_io_queues 2, one job on each of two cores (one I/O qpair each):
#   1. verify at 512 B and 4 KiB (in-capsule writes, keyed reads) and at 64 KiB, 128 KiB and 256 KiB (keyed SGL both
#      ways; the target's max_io_size is 1 MiB, so 256 KiB moves in two of its data buffers), the data moving from and
#      to bdevperf's registered buffers without a copy (the statistics say so at 128 KiB);
#   1.6 bytes allocated per I/O in steady state (4 KiB verify, 90 s): over the same 30 s, after 12 s of warm-up, on the
#      target's reactor (framework_get_reactors' keel_allocated_bytes against nvmf_get_stats' completed_nvme_io) and
#      on bdevperf's reactors (the same against bdev_get_iostat's operations), less what the sampling RPCs allocate
#      there themselves (tests/e2e/lib/alloc-per-io.py); checked at the end: under ALLOC_MAX_BYTES_PER_IO (default 1)
#      on both sides;
#   2. S5, target comes back: kill -9 of the target under I/O; the host resets on the first DISCONNECTED (its log
#      says the path was lost because the controller disconnected), a new target process on the same address and
#      subsystem comes up within ctrlr_loss_timeout_sec, the host reconnects and verify ends with no failed I/O;
#   3. S1: bdev_nvme_get_controllers says RDMA (and the statistics zero-copy for the bulk of commands), then bdev_nvme_detach_controller while both jobs run I/O: answered,
#      or bdevperf ended its run first (the bdev goes before the path), and bdevperf ends within its bound;
#   3b. lifetimes: bdevperf -z, a test, then a detach with no I/O: the device's protection domain is freed once its
#      last qpair goes (its registrations deregistered); a new attach opens it again and a second test verifies;
#   4. S5, target gone: kill -9 under I/O for good; the controller is deleted after ctrlr_loss_timeout_sec (3 s) and
#      bdevperf ends by itself with I/O errors, within its bound.
#
# usage: nvme-rdma-keel2keel-guest.sh [PORT]    (PORT default 4450; the other RDMA guest tests use 4430 and 4440)
# Needs the packaged app (keel-app/target/keel-app-*.jar and keel-app/target/lib/, as ./keel runs it).
# Ends with "NVME-RDMA-KEEL2KEEL-GUEST-OK" and exit 0; a failed check prints "NVME-RDMA-KEEL2KEEL-GUEST-FAIL: why",
# exit 1.
set -uo pipefail
PORT=${1:-4450}
IP=10.0.2.15
NQN=nqn.2024-12.io.keel:rdma-keel2keel
JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
CP="keel-app/target/keel-app-0.1.0-SNAPSHOT.jar:keel-app/target/lib/*"
WORK=$(mktemp -d /tmp/keel-k2k.XXXXXX)
SOCK=$WORK/target.sock
BP_SOCK=$WORK/bdevperf.sock
TARGET_BDEV='{"method": "bdev_uring_create", "params": {"name": "Disk0", "filename": "/dev/ram0", "block_size": 512}}'
TARGET_JAVA_OPTS=-Xmx512m
FAIL_MARKER=NVME-RDMA-KEEL2KEEL-GUEST-FAIL
KEEL_PID= BP= BP_LOG=
on_fail() {
    target_on_fail
    [ -n "$BP_LOG" ] && grep -v "^	at " "$BP_LOG" | tail -n 40 | sed "s|^|[$(basename "$BP_LOG")] |"
    [ -n "$BP" ] && kill -9 "$BP" 2>/dev/null
}
source tests/e2e/lib/rdma-guest.sh
source tests/e2e/lib/keel-rdma-target.sh
source tests/e2e/lib/keel-bdevperf.sh

# verify_ok LOG WHAT: bdevperf exited 0 without an exception or a miscompare
verify_ok() {
    cat "$1"
    [ $RC = 0 ] || fail "bdevperf $2 exited with $RC"
    no_exceptions "$1"
    grep -q "verify FAILED" "$1" && fail "$2 miscompared"
    return 0
}

step "Soft-RoCE and a 64 MiB brd RAM disk"
rxe_up
modprobe brd rd_nr=1 rd_size=$((64 * 1024)) || fail "modprobe brd"
[ -b /dev/ram0 ] || fail "no /dev/ram0"
# one bdevperf job (and one I/O qpair) on each of two cores
[ "$(nproc)" -ge 2 ] || fail "the guest needs two CPUs for two host threads"
BP_CORES=0x3
BP_ARGS="--interrupt-mode"
echo "guest: $(nproc) CPUs, kernel $(uname -r); bdevperf cores $BP_CORES"
QUEUES=', "num_io_queues": 2'
# a shared receive queue of 1024 (SPDK's default 4096 is ~17 MB registered per poll group at start, which under TCG
# made the returning target start in 194 s, past the host's 150 s loss timeout); nvmf-rdma-guest.sh tests the default
TARGET_TRANSPORT=', "max_srq_depth": 1024, "max_io_size": 1048576'

step "Keel's target over RDMA on $IP:$PORT"
start_keel target1 "$TARGET_TRANSPORT"

n=0
for size in 512 4k 64k 128k 256k; do
    n=$((n + 1))
    # 128 KiB runs long enough for the statistics to be read under it (a python start takes seconds under TCG)
    step "1.$n bdevperf verify $size, QD 8 per job, 6 s (128 KiB: 20 s, and the zero-copy counters read)"
    bdevperf "$WORK/bp-$size.log" "$size" 8 $([ $size = 128k ] && echo 20 || echo 6) "$QUEUES"
    wait_running "$WORK/bp-$size.log"
    if [ $size = 128k ]; then
        stats=$(bdevperf_rpc bdev_nvme_get_transport_statistics) || fail "bdev_nvme_get_transport_statistics"
        echo "bdev_nvme_get_transport_statistics: $stats"
        zero_copy_bulk "$stats"
    fi
    finish "$WORK/bp-$size.log" 120
    verify_ok "$WORK/bp-$size.log" "verify $size"
done

# one python process reads both sides (a keel rpc JVM start takes over ten seconds under TCG), so the window falls
# inside the run
step "1.6 bytes allocated per I/O: bdevperf verify 4 KiB, QD 8 per job, 90 s; both sides over 30 s of it"
bdevperf "$WORK/bp-alloc.log" 4k 8 90 "$QUEUES"
wait_running "$WORK/bp-alloc.log"
sleep 12 # the JIT's warm-up on both sides
for i in $(seq 1 150); do [ -S "$BP_SOCK" ] && break; sleep 0.2; done
python3 tests/e2e/lib/alloc-per-io.py "$SOCK" "$BP_SOCK" 30 | tee "$WORK/alloc.txt" || fail "reading allocations and I/O counts"
kill -0 "$BP" 2>/dev/null || fail "bdevperf ended before the last sample: the window is not inside the run"
finish "$WORK/bp-alloc.log" 150
verify_ok "$WORK/bp-alloc.log" "verify 4k (allocation)"
TARGET_BPIO=$(sed -n 's/.*TARGET_BPIO=\([^ ]*\).*/\1/p' "$WORK/alloc.txt")
HOST_BPIO=$(sed -n 's/.*HOST_BPIO=\([^ ]*\).*/\1/p' "$WORK/alloc.txt")

# a target JVM takes about a minute to start under TCG: the run and the loss timeout leave room for it
step "2. S5: kill -9 of the target under I/O, then a new target: reconnect, no failed I/O"
bdevperf "$WORK/bp-return.log" 4k 8 120 "$QUEUES"', "ctrlr_loss_timeout_sec": 150, "reconnect_delay_sec": 1'
wait_running "$WORK/bp-return.log"
sleep 3
kill -9 "$KEEL_PID"; wait "$KEEL_PID" 2>/dev/null; KEEL_PID=
t_kill=$(date +%s)
echo "target killed at $(( t_kill - T0 ))s"
for i in $(seq 1 50); do grep -q " lost (" "$WORK/bp-return.log" && break; sleep 0.2; done
grep " lost (" "$WORK/bp-return.log" | head -2
grep -qE " lost \(.*disconnected" "$WORK/bp-return.log" \
    || fail "the host did not reset on the target's DISCONNECTED within 10 s of the kill"
sleep 1
start_keel target2 "$TARGET_TRANSPORT"
echo "new target listening $(( $(date +%s) - t_kill )) s after the kill"
finish "$WORK/bp-return.log" 240
verify_ok "$WORK/bp-return.log" "verify across the target's restart"
grep -q "reconnected" "$WORK/bp-return.log" || fail "no reconnect in the host's log"

step "3. S1: bdev_nvme_detach_controller under I/O on two jobs"
bdevperf "$WORK/bp-detach.log" 4k 16 60 "$QUEUES"
wait_running "$WORK/bp-detach.log"
ctrlrs=$(bdevperf_rpc bdev_nvme_get_controllers) || fail "bdev_nvme_get_controllers"
echo "bdev_nvme_get_controllers: $ctrlrs"
grep -q '"trtype": *"RDMA"' <<< "$ctrlrs" || fail "get_controllers does not say trtype RDMA"
stats=$(bdevperf_rpc bdev_nvme_get_transport_statistics) || fail "bdev_nvme_get_transport_statistics"
zero_copy_bulk "$stats"
t_detach=$(date +%s)
# the bdev goes first, so both jobs end and bdevperf stops its app: that can close the RPC connection before the
# answer, which comes once the path is torn down; then bdevperf's shutdown (which deletes what is left) must end
if timeout 60 python3 keel-bench/rpc.py "$BP_SOCK" bdev_nvme_detach_controller '{"name": "Nvme0"}'; then
    echo "detach answered in $(( $(date +%s) - t_detach )) s"
else
    kill -0 "$BP" 2>/dev/null && ! grep -q "shutting down" "$WORK/bp-detach.log" \
        && fail "bdev_nvme_detach_controller under I/O did not answer and bdevperf is not ending"
    echo "bdevperf ended its run before the detach's answer ($(( $(date +%s) - t_detach )) s)"
fi
finish "$WORK/bp-detach.log" 60
cat "$WORK/bp-detach.log"
grep -q "did not shut down" "$WORK/bp-detach.log" && fail "bdevperf's shutdown after the detach hung"
grep -qE "was removed during the run|failed with status" "$WORK/bp-detach.log" \
    || fail "bdevperf saw neither the bdev go nor its I/O fail"
# the bdev's removal ends on the application thread, not on the job thread that closed it and left: no 10 s wait
grep -q "bdevs still open after" "$WORK/bp-detach.log" && fail "bdevperf's shutdown waited out the bdev subsystem's bound"
no_exceptions "$WORK/bp-detach.log"
kill -0 "$KEEL_PID" || fail "the target died under the detach"

step "3b. lifetimes: a detach frees the device's protection domain; a new attach opens it again and I/O runs"
BP_ARGS="$BP_ARGS -z" bdevperf "$WORK/bp-reattach.log" 4k 8 5 "$QUEUES"
for i in $(seq 1 600); do
    grep -q "waiting for perform_tests" "$WORK/bp-reattach.log" && break
    kill -0 "$BP" 2>/dev/null || { cat "$WORK/bp-reattach.log"; fail "bdevperf -z ended before serving tests"; }
    sleep 0.2
done
bdevperf_rpc perform_tests > "$WORK/reattach-1.json" || fail "perform_tests on the first attach"
[ "$(bdevperf_rpc bdev_nvme_detach_controller '{"name": "Nvme0"}')" = true ] || fail "detach without I/O"
# the domain's regions (iobuf's pools among them) are deregistered on the registration worker: seconds under TCG
for i in $(seq 1 300); do grep -q "protection domain freed" "$WORK/bp-reattach.log" && break; sleep 0.2; done
grep "protection domain freed" "$WORK/bp-reattach.log" \
    || { cat "$WORK/bp-reattach.log"; fail "the last qpair on the device went, but its protection domain was not freed"; }
bdevperf_rpc bdev_nvme_attach_controller '{"name": "Nvme0", "trtype": "rdma", "adrfam": "IPv4", "traddr": "'$IP'",
    "trsvcid": "'$PORT'", "subnqn": "'$NQN'", "num_io_queues": 2}' || fail "attaching again after the detach"
bdevperf_rpc perform_tests > "$WORK/reattach-2.json" || { cat "$WORK/bp-reattach.log"; fail "perform_tests after the new attach"; }
cat "$WORK/reattach-2.json"
[ "$(grep -c "protection domain allocated" "$WORK/bp-reattach.log")" -ge 2 ] \
    || fail "the new attach did not open the device's domain again"
kill -TERM "$BP"
finish "$WORK/bp-reattach.log" 60
verify_ok "$WORK/bp-reattach.log" "verify before and after the new attach"

step "4. S5: kill -9 of the target under I/O for good: the controller goes after ctrlr_loss_timeout_sec 3"
bdevperf "$WORK/bp-gone.log" 4k 8 60 "$QUEUES"', "ctrlr_loss_timeout_sec": 3, "reconnect_delay_sec": 1'
wait_running "$WORK/bp-gone.log"
sleep 3
kill -9 "$KEEL_PID"; wait "$KEEL_PID" 2>/dev/null; KEEL_PID=
t_kill=$(date +%s)
finish "$WORK/bp-gone.log" 60
echo "bdevperf ended $(( $(date +%s) - t_kill )) s after the kill (exit $RC)"
cat "$WORK/bp-gone.log"
grep -q "not back within ctrlr_loss_timeout_sec 3" "$WORK/bp-gone.log" \
    || fail "the controller was not deleted after its loss timeout"
grep -q "was removed during the run" "$WORK/bp-gone.log" || fail "bdevperf did not report the bdev removed"
grep -q "bdevs still open after" "$WORK/bp-gone.log" && fail "bdevperf's shutdown waited out the bdev subsystem's bound"
[ $RC != 0 ] || fail "bdevperf reported no error though its bdev went away"
no_exceptions "$WORK/bp-gone.log"

# checked last, so a failure here still shows every functional step's result. The I/O paths allocate nothing; what
# is left over a window is periodic (the host's keep-alive, a few dozen bytes every few seconds) and a leak of even
# one object per I/O (16 bytes or more) is far above the bound
step "bytes allocated per I/O (step 1.6)"
ALLOC_MAX_BYTES_PER_IO=${ALLOC_MAX_BYTES_PER_IO:-1}
echo "target $TARGET_BPIO B/IO, host $HOST_BPIO B/IO (bound $ALLOC_MAX_BYTES_PER_IO)"
awk -v t="$TARGET_BPIO" -v m="$ALLOC_MAX_BYTES_PER_IO" 'BEGIN { exit !(t != "" && t != "nan" && t < m) }' \
    || fail "the target allocated $TARGET_BPIO bytes per I/O on its reactor (bound $ALLOC_MAX_BYTES_PER_IO)"
awk -v h="$HOST_BPIO" -v m="$ALLOC_MAX_BYTES_PER_IO" 'BEGIN { exit !(h != "" && h != "nan" && h < m) }' \
    || fail "bdevperf's reactors allocated $HOST_BPIO bytes per I/O (bound $ALLOC_MAX_BYTES_PER_IO)"

step "done"
echo "NVME-RDMA-KEEL2KEEL-GUEST-OK in $(( $(date +%s) - T0 )) s"
