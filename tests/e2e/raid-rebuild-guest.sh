#!/bin/bash
# GUEST script (run it with ../shared/guest/guest-run.sh -w SYNC): scenario S4's Linux host. The kernel NVMe/TCP
# initiator connects to a namespace while the target rebuilds the raid1 behind it, and runs fio verify=crc32c on
# its own region of that namespace until the host says the rebuild is over.
#
# usage: raid-rebuild-guest.sh SYNC ADDR PORT NQN REGION_BYTES
#   SYNC          a host folder shared with -w; the guest and the host talk through files in it:
#                   guest: ready      nvme-tcp is loaded, the guest waits for go
#                   host:  go         connect now (the rebuild runs)
#                   guest: connected  the namespace's block device is there; fio starts
#                   host:  stop       the rebuild is over: finish the fio run under way, then disconnect
#   ADDR PORT     the target; 10.0.2.2 is the host's 127.0.0.1 (QEMU user networking)
#   NQN           the subsystem whose namespace 1 is the rebuilding raid
#   REGION_BYTES  fio works on bytes [0, REGION_BYTES) of the namespace (two jobs, half each); the rest is
#                 for the host's other users
# environment (optional): WAIT_S (how long to wait for go, default 300), RUN_S (the most fio runs may last
# altogether, default 300).
#
# fio runs back to back (randrw, verify=crc32c, 4 KiB then 64 KiB, 2 jobs, iodepth 8), at least one of them whole
# after connect; then the kernel's log must show no NVMe timeout, reset, reconnect or I/O error. Ends with
# "RAID-REBUILD-GUEST-OK: N fio runs" and exit 0; any failure prints "RAID-REBUILD-GUEST-FAIL: why" and exit 1.
set -uo pipefail
SYNC=${1:?sync folder}; ADDR=${2:?addr}; PORT=${3:?port}; NQN=${4:?subnqn}; REGION=${5:?region bytes}
WAIT_S=${WAIT_S:-300}; RUN_S=${RUN_S:-300}
T0=$(date +%s)

step() { echo "=== [$(( $(date +%s) - T0 ))s] $*"; }
fail() { echo "RAID-REBUILD-GUEST-FAIL: $*"; dmesg | grep -i nvme | tail -n 30 | sed 's/^/[dmesg] /'; exit 1; }

modprobe nvme-tcp || fail "modprobe nvme-tcp"
[ -s /etc/nvme/hostnqn ] || { mkdir -p /etc/nvme; nvme gen-hostnqn > /etc/nvme/hostnqn; }
[ -s /etc/nvme/hostid ] || cat /proc/sys/kernel/random/uuid > /etc/nvme/hostid
step "ready: $(nproc) CPUs, kernel $(uname -r), $(fio --version)"
touch "$SYNC/ready"

while [ ! -e "$SYNC/go" ]; do
    [ $(( $(date +%s) - T0 )) -lt "$WAIT_S" ] || fail "no $SYNC/go within ${WAIT_S}s"
    sleep 0.1
done

step "nvme connect -t tcp -a $ADDR -s $PORT -n $NQN"
out=$(nvme connect -t tcp -a "$ADDR" -s "$PORT" -n "$NQN" -l 10 2>&1) || fail "nvme connect: $out"
DEV=
for i in $(seq 1 100); do
    for c in /sys/class/nvme/nvme*; do
        [ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$NQN" ] && [ "$(cat "$c/state" 2>/dev/null)" = live ] || continue
        DEV=$(ls "$c" | grep -E "^nvme[0-9]+(c[0-9]+)?n1$" | head -1 | sed -E 's/c[0-9]+n/n/')
    done
    [ -n "$DEV" ] && [ -b "/dev/$DEV" ] && break
    DEV=
    sleep 0.2
done
[ -n "$DEV" ] || fail "no block device for namespace 1 of $NQN after nvme connect"
step "connected: /dev/$DEV, $(blockdev --getsize64 /dev/$DEV) B"
touch "$SYNC/connected"

runs=0
half=$(( REGION / 2 ))
START=$(date +%s)
while [ "$runs" = 0 ] || [ ! -e "$SYNC/stop" ]; do
    [ $(( $(date +%s) - START )) -lt "$RUN_S" ] || fail "no $SYNC/stop within ${RUN_S}s of fio"
    bs=$([ $(( runs % 2 )) = 0 ] && echo 4k || echo 64k)
    out=$(fio --name="verify-$bs" --filename=/dev/$DEV --direct=1 --ioengine=libaio --rw=randrw --rwmixread=50 \
        --bs="$bs" --iodepth=8 --numjobs=2 --size="$half" --offset_increment="$half" \
        --verify=crc32c --do_verify=1 --verify_fatal=1 --group_reporting --eta=never 2>&1)
    rc=$?
    [ $rc = 0 ] || { echo "$out"; fail "fio run $(( runs + 1 )) (bs $bs, verify=crc32c) on /dev/$DEV exited with status $rc"; }
    runs=$(( runs + 1 ))
    step "fio run $runs (bs $bs) passed: $(grep -oE 'err= *[0-9]+' <<< "$out" | head -1), $(grep -E '^ +(read|write):' <<< "$out" | tr -s ' ' | tr '\n' ' ')"
done

step "nvme disconnect -n $NQN"
out=$(nvme disconnect -n "$NQN" 2>&1) || fail "nvme disconnect: $out"
grep -q "disconnected 1 controller" <<< "$out" || fail "nvme disconnect did not disconnect one controller: $out"
# an I/O the kernel timed out or retried never reaches fio: its log must show none
dmesg | grep -i nvme | sed 's/^/[dmesg] /'
! dmesg | grep -i nvme | grep -qiE "timeout|resetting|I/O error|reconnect|failed" || fail "the kernel's log shows NVMe trouble"
echo "RAID-REBUILD-GUEST-OK: $runs fio runs ($(( $(date +%s) - T0 ))s in the guest)"
