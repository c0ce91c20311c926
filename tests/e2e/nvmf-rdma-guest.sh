#!/bin/bash
# GUEST script (run it with ../shared/guest/guest-run.sh from the repository root): Keel's NVMe-oF RDMA target on
# Soft-RoCE against the Linux kernel's nvme-rdma initiator, both in this guest. Loads rdma_rxe, ib_uverbs, rdma_ucm
# and nvme-rdma, adds rxe0 on eth0, and starts keel-app's main (the host's JDK 25; the guest's root is the host's)
# serving a malloc bdev over RDMA on 10.0.2.15:PORT. Then:
#   1. nvme discover (the subsystem listed with trtype rdma), nvme connect, fio verify (4 KiB randrw: in-capsule
#      writes and keyed reads; 128 KiB randrw: keyed both ways) with the capsules in the poll group's shared receive
#      queue (SPDK's default), nvme disconnect; Keel stops cleanly (SIGTERM). Then the same with no_srq: each qpair
#      posts its own receives. With the shared receive queue, every buffer is posted again once the host is gone.
#   2. max_io_size 1 MiB (SPDK's RDMA default is 128 KiB): the kernel's max_hw_sectors_kb follows MDTS (128 with the
#      default, 1024 here), fio verify with 512 KiB and 1 MiB requests: each command's data in several 128 KiB data
#      buffers, gathered by one RDMA READ or WRITE (several on a device with fewer scatter/gather entries).
#   3. S3: Keel again (shared receive queue) with data_wr_pool_size and num_shared_buffers far below the queue depth;
#      fio at QD 64 completes every I/O with verify, and nvmf_get_stats shows requests waited for the pools
#      (pending_data_buffer > 0) and none wait at the end.
#   4. S1: nvmf_delete_subsystem while fio runs at QD 32: the RPC answers, every qpair is gone soon after, and Keel
#      stops cleanly afterwards (fio's I/O errors are expected).
#
# usage: nvmf-rdma-guest.sh CLASSPATH [PORT]
#   CLASSPATH  keel-app's main and its dependencies, e.g. keel-app/target/keel-app-0.1.0-SNAPSHOT.jar:keel-app/target/lib/*
# environment (optional): FIO_SIZE bytes each fio job verifies (default 16M)
# Ends with "NVMF-RDMA-GUEST-OK" and exit 0; any failed check prints "NVMF-RDMA-GUEST-FAIL: why" and exits 1.
set -uo pipefail
CP=${1:?classpath}; PORT=${2:-4430}
IP=10.0.2.15
NQN=nqn.2024-12.io.keel:rdma-e2e
JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
FIO_SIZE=${FIO_SIZE:-16M}
WORK=$(mktemp -d /tmp/keel-rdma.XXXXXX)
SOCK=$WORK/keel.sock
KEEL_PID=
FAIL_MARKER=NVMF-RDMA-GUEST-FAIL
on_fail() { target_on_fail; }
source tests/e2e/lib/rdma-guest.sh
source tests/e2e/lib/keel-rdma-target.sh

# connect_ctrl: nvme connect over RDMA; sets CTRL and DEV once the namespace's block device is there
connect_ctrl() {
    local i c
    run nvme connect -t rdma -a "$IP" -s "$PORT" -n "$NQN" -l 10 "$@"
    CTRL=; DEV=
    for i in $(seq 1 100); do
        for c in $(ls /sys/class/nvme 2>/dev/null); do
            [ "$(cat /sys/class/nvme/$c/subsysnqn 2>/dev/null)" = "$NQN" ] && CTRL=$c
        done
        if [ -n "$CTRL" ]; then
            DEV=$(ls /sys/class/nvme/$CTRL | grep -E "^nvme[0-9]+(c[0-9]+)?n[0-9]+$" | head -1 | sed -E 's/c[0-9]+n/n/')
            [ -n "$DEV" ] && [ -b /dev/$DEV ] && [ "$(cat /sys/class/nvme/$CTRL/state)" = live ] && break
        fi
        sleep 0.2
    done
    [ -n "$DEV" ] && [ -b "/dev/$DEV" ] || fail "no namespace block device after nvme connect"
    echo "controller /dev/$CTRL ($(cat /sys/class/nvme/$CTRL/transport) $(cat /sys/class/nvme/$CTRL/address)) namespace /dev/$DEV"
}

# receive_queue_is NAME shared|own: the target's log says how its poll group receives capsules on rxe0
receive_queue_is() {
    local log=$WORK/keel-$1.log
    if [ "$2" = shared ]; then
        grep -q "on RDMA device rxe0: shared receive queue of" "$log" || fail "keel ($1) made no shared receive queue"
    else
        grep -q "on RDMA device rxe0: no shared receive queue" "$log" || fail "keel ($1) made a shared receive queue"
    fi
    grep -h "on RDMA device rxe0:" "$log" | sed 's/.*nvmf: //' | cut -c1-240
}

# srq_buffers_back NAME: once the host disconnected, every shared receive queue buffer is posted again (none lost
# with the qpairs that held them)
srq_buffers_back() {
    local i
    for i in $(seq 1 5); do # each target_rpc is a JVM start: seconds under TCG
        target_rpc nvmf_get_stats > "$WORK/stats-$1-after.json" || fail "nvmf_get_stats after the disconnect"
        python3 - "$WORK/stats-$1-after.json" <<'EOF' && return 0
import json, sys
s = json.load(open(sys.argv[1]))
rdma = [t for g in s["poll_groups"] for t in g["transports"] if t["trtype"] == "RDMA"]
total = sum(t["shared_receive_buffers"] for t in rdma)
posted = sum(t["shared_receive_buffers_posted"] for t in rdma)
print("shared receive queue buffers", total, "posted", posted)
sys.exit(0 if total > 0 and posted == total else 1)
EOF
    done
    fail "keel ($1): shared receive queue buffers missing after the host disconnected"
}

# max_hw_sectors_is KIB: the kernel's largest request on the namespace, from the controller's MDTS
max_hw_sectors_is() {
    local got
    got=$(cat /sys/block/$DEV/queue/max_hw_sectors_kb)
    echo "max_hw_sectors_kb $got, max_sectors_kb $(cat /sys/block/$DEV/queue/max_sectors_kb)"
    [ "$got" = "$1" ] || fail "max_hw_sectors_kb is $got, not $1"
}

fio_verify() { # NAME BS IODEPTH
    run fio --name="$1" --filename="/dev/$DEV" --direct=1 --ioengine=libaio --rw=randrw --bs="$2" --iodepth="$3" \
        --size="$FIO_SIZE" --verify=crc32c --verify_fatal=1 --do_verify=1 --numjobs=1 --group_reporting \
        --output-format=terse --terse-version=3 > "$WORK/fio-$1.txt"
    awk -F';' 'NF > 40 {printf "fio %s: read %s KiB, write %s KiB, errors %s\n", $3, $6, $47, $5}' "$WORK/fio-$1.txt"
}

step "Soft-RoCE: modprobe rdma_rxe ib_uverbs rdma_ucm nvme-rdma; rxe0 on eth0"
rxe_up nvme-rdma
[ -s /etc/nvme/hostnqn ] || { mkdir -p /etc/nvme; nvme gen-hostnqn > /etc/nvme/hostnqn; }
[ -s /etc/nvme/hostid ] || cat /proc/sys/kernel/random/uuid > /etc/nvme/hostid
echo "guest: $(nproc) CPUs, kernel $(uname -r), $(nvme version | head -1), $(fio --version)"

step "Keel's target over RDMA on $IP:$PORT (SPDK's RDMA defaults)"
start_keel defaults ""
target_rpc nvmf_get_transports | tr -d ' \n' | head -c 600; echo

step "nvme discover -t rdma"
nvme discover -t rdma -a "$IP" -s "$PORT" > "$WORK/discover.txt" 2>&1 || { cat "$WORK/discover.txt"; fail "nvme discover"; }
cat "$WORK/discover.txt"
grep -q "subnqn: *$NQN" "$WORK/discover.txt" || fail "the discovery log does not list $NQN"
grep -qi "trtype: *rdma" "$WORK/discover.txt" || fail "the discovery log entry is not trtype rdma"
grep -qi "rdma_prtype: *not specified" "$WORK/discover.txt" || grep -qi "prtype" "$WORK/discover.txt" \
    || fail "the discovery log entry has no RDMA TSAS"

step "nvme connect -t rdma; fio verify 4 KiB and 128 KiB (shared receive queue)"
connect_ctrl
receive_queue_is defaults shared
max_hw_sectors_is 128
fio_verify randrw-4k 4k 16
fio_verify randrw-128k 128k 8
target_rpc nvmf_get_stats | tr -d ' \n' | head -c 1500; echo
step "nvme disconnect; every shared receive queue buffer back; Keel stops"
run nvme disconnect -n "$NQN"
srq_buffers_back defaults
stop_keel

step "no_srq: fio verify 4 KiB and 128 KiB, each qpair posting its own receives"
start_keel nosrq ', "no_srq": true'
target_rpc nvmf_get_transports > "$WORK/transports-nosrq.json" || fail "nvmf_get_transports"
python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))[0]; print("no_srq", t["no_srq"], "num_cqe", t["num_cqe"]); sys.exit(0 if t["no_srq"] is True and t["num_cqe"] == 4096 else 1)' \
    "$WORK/transports-nosrq.json" || fail "nvmf_get_transports does not show no_srq true with num_cqe"
connect_ctrl
receive_queue_is nosrq own
fio_verify nosrq-4k 4k 16
fio_verify nosrq-128k 128k 8
run nvme disconnect -n "$NQN"
stop_keel

step "max_io_size 1 MiB: MDTS 1 MiB, fio verify 512 KiB and 1 MiB requests in several data buffers"
start_keel big ', "max_io_size": 1048576'
target_rpc nvmf_get_transports | tr -d ' \n' | grep -o '"max_io_size":[0-9]*' | grep -qx '"max_io_size":1048576' \
    || fail "nvmf_get_transports does not show max_io_size 1048576"
connect_ctrl
max_hw_sectors_is 1024
fio_verify big-512k 512k 8
fio_verify big-1m 1m 4
run nvme disconnect -n "$NQN"
srq_buffers_back big
stop_keel

step "S3: data_wr_pool_size 4, num_shared_buffers 4 under fio QD 64 (shared receive queue)"
start_keel tiny ', "data_wr_pool_size": 4, "num_shared_buffers": 4'
connect_ctrl
receive_queue_is tiny shared
fio_verify tiny-qd64-4k 4k 64
fio_verify tiny-qd64-128k 128k 64
target_rpc nvmf_get_stats > "$WORK/stats-tiny.json" || fail "nvmf_get_stats"
tr -d ' \n' < "$WORK/stats-tiny.json" | head -c 1500; echo
python3 - "$WORK/stats-tiny.json" <<'EOF' || fail "nvmf_get_stats does not show the pools' waits"
import json, sys
s = json.load(open(sys.argv[1]))
rdma = [t for g in s["poll_groups"] for t in g["transports"] if t["trtype"] == "RDMA"]
pending = sum(t["pending_data_buffer"] for t in rdma)
waiting = sum(t["requests_waiting_for_data"] for t in rdma)
devices = [d for t in rdma for d in t["devices"]]
print("pending_data_buffer", pending, "waiting now", waiting, "devices", [(d["name"], d["requests"]) for d in devices])
assert pending > 0, "no request waited for a data buffer or data work request"
assert waiting == 0, "requests still wait after fio finished"
assert devices and all(d["requests"] > 0 for d in devices)
EOF
run nvme disconnect -n "$NQN"
srq_buffers_back tiny
stop_keel

step "S1: nvmf_delete_subsystem under fio QD 32"
start_keel teardown ""
connect_ctrl
fio --name=teardown --filename="/dev/$DEV" --direct=1 --ioengine=libaio --rw=randrw --bs=4k --iodepth=32 \
    --time_based --runtime=60 --output="$WORK/fio-teardown.txt" > /dev/null 2>&1 &
FIO_PID=$!
sleep 8
kill -0 $FIO_PID 2>/dev/null || fail "fio stopped before the delete"
target_rpc nvmf_delete_subsystem --nqn "$NQN" || fail "nvmf_delete_subsystem under I/O"
for i in $(seq 1 6); do # each target_rpc is a JVM start: seconds under TCG
    target_rpc nvmf_get_stats > "$WORK/stats-teardown.json" || fail "nvmf_get_stats after the delete"
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if all(g["current_io_qpairs"] + g["current_admin_qpairs"] == 0 for g in s["poll_groups"]) else 1)' \
        "$WORK/stats-teardown.json" && break
done
tr -d ' \n' < "$WORK/stats-teardown.json" | head -c 400; echo
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if all(g["current_io_qpairs"] + g["current_admin_qpairs"] == 0 for g in s["poll_groups"]) else 1)' \
    "$WORK/stats-teardown.json" || fail "qpairs remain after nvmf_delete_subsystem"
kill -0 "$KEEL_PID" || fail "keel died under the delete"
nvme disconnect -n "$NQN" > /dev/null 2>&1
wait $FIO_PID; echo "fio after the delete exited with $? (the kernel fails or requeues what was in flight)"
stop_keel

step "done"
echo "NVMF-RDMA-GUEST-OK in $(( $(date +%s) - T0 )) s"
