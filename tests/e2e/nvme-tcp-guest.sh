#!/bin/bash
# GUEST script (run it with ../shared/guest/guest-run.sh): the Linux kernel NVMe/TCP initiator,
# nvme-cli and fio against an NVMe-oF/TCP target listening on ADDR:PORT.
#
# usage: nvme-tcp-guest.sh ADDR PORT NQN NS_BYTES [RNQN ALLOWED_HOSTNQN RNS_BYTES]
#   ADDR PORT        the target; 10.0.2.2 is the host's 127.0.0.1 (QEMU user networking)
#   NQN              a subsystem that allows any host, with one namespace of NS_BYTES bytes
#   RNQN             optional: a subsystem that allows only ALLOWED_HOSTNQN, one namespace of RNS_BYTES
# environment (optional):
#   EXPECT_MN, EXPECT_SN   id-ctrl model number / serial number of NQN must equal these (trimmed)
#   DISC_PORT              the trsvcid the discovery log must list (default PORT; differs behind a NAT)
#   FIO_SIZE               bytes each fio job verifies (default 16M; two jobs side by side -> 2x)
#
# Steps: discover (NQN listed; RNQN hidden from other hosts, listed for ALLOWED_HOSTNQN), connect,
# list, id-ctrl (sn/mn/subnqn), id-ns (nsze * block size = NS_BYTES), smart-log, one I/O queue per
# CPU, fio randrw verify=crc32c at 4 KiB and 128 KiB (numjobs=2, iodepth 8), disconnect; connect again
# with --hdr-digest --data-digest + fio verify; RNQN refuses another host NQN and accepts the allowed one.
# Ends with "NVME-TCP-GUEST-OK" and exit 0; any failed check prints "NVME-TCP-GUEST-FAIL: why", exit 1.
set -uo pipefail
ADDR=${1:?addr}; PORT=${2:?port}; NQN=${3:?subnqn}; NS_BYTES=${4:?namespace bytes}
RNQN=${5:-}; RHOST=${6:-}; RNS_BYTES=${7:-}
FIO_SIZE=${FIO_SIZE:-16M}
T0=$(date +%s)

step() { echo; echo "=== [$(( $(date +%s) - T0 ))s] $*"; }
fail() { echo; echo "NVME-TCP-GUEST-FAIL: $*"; dmesg | grep -i nvme | tail -n 30 | sed 's/^/[dmesg] /'; exit 1; }
run() { echo "+ $*"; "$@" || fail "'$*' exited with status $?"; }
bytes() { numfmt --from=iec "$1"; }

modprobe nvme-tcp || fail "modprobe nvme-tcp"
[ -s /etc/nvme/hostnqn ] || { mkdir -p /etc/nvme; nvme gen-hostnqn > /etc/nvme/hostnqn; }
[ -s /etc/nvme/hostid ] || cat /proc/sys/kernel/random/uuid > /etc/nvme/hostid
HOSTNQN=$(cat /etc/nvme/hostnqn)
echo "guest: $(nproc) CPUs, kernel $(uname -r), $(nvme version | head -1), $(fio --version); hostnqn $HOSTNQN"

# connect_ctrl NQN ARGS... : nvme connect, then wait for the controller and its namespace;
# sets CTRL (nvmeX) and DEV (nvmeXnY)
connect_ctrl() {
    local nqn=$1; shift
    local before c i
    before=$(ls /sys/class/nvme 2>/dev/null)
    run nvme connect -t tcp -a "$ADDR" -s "$PORT" -n "$nqn" -l 10 "$@"
    CTRL=; DEV=
    for i in $(seq 1 100); do
        for c in $(ls /sys/class/nvme 2>/dev/null); do
            grep -qxF "$c" <<< "$before" && continue
            [ "$(cat /sys/class/nvme/$c/subsysnqn 2>/dev/null)" = "$nqn" ] && CTRL=$c
        done
        if [ -n "$CTRL" ]; then
            DEV=$(ls /sys/class/nvme/$CTRL | grep -E "^nvme[0-9]+(c[0-9]+)?n[0-9]+$" | head -1 | sed -E 's/c[0-9]+n/n/')
            [ -n "$DEV" ] && [ -b /dev/$DEV ] && [ "$(cat /sys/class/nvme/$CTRL/state)" = live ] && break
        fi
        sleep 0.2
    done
    [ -n "$CTRL" ] || fail "no controller for $nqn appeared after nvme connect"
    [ -n "$DEV" ] && [ -b "/dev/$DEV" ] || fail "controller /dev/$CTRL of $nqn has no namespace block device"
    echo "controller /dev/$CTRL ($(cat /sys/class/nvme/$CTRL/state), $(cat /sys/class/nvme/$CTRL/address)) namespace /dev/$DEV"
}

disconnect() {
    local out
    out=$(nvme disconnect -n "$1" 2>&1) || fail "nvme disconnect -n $1: $out"
    echo "$out"
    grep -q "disconnected 1 controller" <<< "$out" || fail "nvme disconnect -n $1 did not disconnect one controller: $out"
    for i in $(seq 1 50); do [ -e "/sys/class/nvme/$CTRL" ] || return 0; sleep 0.2; done
    fail "/dev/$CTRL still present after disconnect"
}

# check_ns DEV BYTES : id-ns nsze times the in-use LBA data size equals BYTES
check_ns() {
    local dev=$1 want=$2 out nsze lbads
    out=$(nvme id-ns /dev/$dev) || fail "nvme id-ns /dev/$dev"
    grep -E '^(nsze|ncap|nuse|nlbaf|flbas|lbaf .*in use)' <<< "$out"
    nsze=$(awk -F: '/^nsze/{gsub(/ /,"",$2); print $2}' <<< "$out")
    lbads=$(grep 'in use' <<< "$out" | grep -o 'lbads:[0-9]*' | cut -d: -f2)
    [ -n "$nsze" ] && [ -n "$lbads" ] || fail "id-ns /dev/$dev: no nsze or in-use LBA format"
    [ $(( nsze * (1 << lbads) )) = "$want" ] || fail "id-ns /dev/$dev: nsze $nsze x $((1 << lbads)) B != expected $want B"
    [ "$(blockdev --getsize64 /dev/$dev)" = "$want" ] || fail "/dev/$dev is $(blockdev --getsize64 /dev/$dev) B, expected $want B"
    echo "namespace size OK: $nsze blocks of $((1 << lbads)) B = $want B"
}

# fio_verify DEV BS SIZE JOBS : random read/write with verify=crc32c, each job on its own region
fio_verify() {
    local dev=$1 bs=$2 size=$3 jobs=$4
    step "fio randrw bs=$bs numjobs=$jobs iodepth=8 size=$size/job verify=crc32c on /dev/$dev"
    local out rc=0
    out=$(fio --name="randrw-$bs" --filename=/dev/$dev --direct=1 --ioengine=libaio \
        --rw=randrw --rwmixread=50 --bs="$bs" --iodepth=8 --numjobs="$jobs" \
        --size="$size" --offset_increment="$size" \
        --verify=crc32c --do_verify=1 --verify_fatal=1 --group_reporting --eta=never 2>&1) || rc=$?
    if [ $rc != 0 ]; then echo "$out"; fail "fio randrw bs=$bs verify=crc32c on /dev/$dev exited with status $rc"; fi
    grep -E 'err=|  (read|write): IOPS|issued rwts|verify' <<< "$out"
}

# ---------------------------------------------------------------- discovery
step "nvme discover -t tcp -a $ADDR -s $PORT"
out=$(nvme discover -t tcp -a "$ADDR" -s "$PORT" 2>&1) || { echo "$out"; fail "nvme discover exited non-zero"; }
echo "$out"
grep -qE "^subnqn: +$NQN\$" <<< "$out" || fail "the discovery log does not list $NQN"
grep -qE "^trsvcid: +${DISC_PORT:-$PORT}\$" <<< "$out" || fail "the discovery log does not list port ${DISC_PORT:-$PORT}"
if [ -n "$RNQN" ]; then
    ! grep -qE "^subnqn: +$RNQN\$" <<< "$out" || fail "the discovery log shows $RNQN to host $HOSTNQN, which it does not allow"
    step "nvme discover --hostnqn $RHOST (the host $RNQN allows)"
    out=$(nvme discover -t tcp -a "$ADDR" -s "$PORT" -q "$RHOST" -I "$(cat /proc/sys/kernel/random/uuid)" 2>&1) \
        || { echo "$out"; fail "nvme discover --hostnqn $RHOST exited non-zero"; }
    echo "$out"
    grep -qE "^subnqn: +$RNQN\$" <<< "$out" || fail "the discovery log for $RHOST does not list $RNQN"
fi

# ---------------------------------------------------------------- plain connection
step "nvme connect -t tcp -a $ADDR -s $PORT -n $NQN"
connect_ctrl "$NQN"
step "nvme list"
run nvme list
step "nvme id-ctrl /dev/$CTRL"
out=$(nvme id-ctrl /dev/$CTRL) || fail "nvme id-ctrl /dev/$CTRL"
grep -E '^(vid|ssvid|sn|mn|fr|mdts|cntlid|ver|nn|sgls|subnqn|ioccsz|iorcsz|maxcmd|kas) ' <<< "$out"
field() { awk -v f="$1" -F' : ' '$1 ~ "^"f" *$" {sub(/ +$/, "", $2); print $2; exit}' <<< "$out"; }
[ "$(field subnqn)" = "$NQN" ] || fail "id-ctrl subnqn '$(field subnqn)' != $NQN"
[ -n "$(field sn)" ] || fail "id-ctrl sn is empty"
[ -n "$(field mn)" ] || fail "id-ctrl mn is empty"
[ -z "${EXPECT_SN:-}" ] || [ "$(field sn)" = "$EXPECT_SN" ] || fail "id-ctrl sn '$(field sn)' != '$EXPECT_SN'"
[ -z "${EXPECT_MN:-}" ] || [ "$(field mn)" = "$EXPECT_MN" ] || fail "id-ctrl mn '$(field mn)' != '$EXPECT_MN'"
[ "$(field nn)" -ge 1 ] 2>/dev/null || fail "id-ctrl nn '$(field nn)' < 1"
[ "$(cat /sys/class/nvme/$CTRL/serial | sed 's/ *$//')" = "$(field sn)" ] || fail "sysfs serial != id-ctrl sn"
echo "id-ctrl OK: sn '$(field sn)' mn '$(field mn)' subnqn $(field subnqn)"
step "nvme id-ns /dev/$DEV"
check_ns "$DEV" "$NS_BYTES"
step "nvme smart-log /dev/$CTRL"
out=$(nvme smart-log /dev/$CTRL 2>&1) || { echo "$out"; fail "nvme smart-log /dev/$CTRL exited non-zero"; }
echo "$out"
grep -q critical_warning <<< "$out" || fail "smart-log has no critical_warning field"
step "I/O queues"
qc=$(cat /sys/class/nvme/$CTRL/queue_count)
echo "queue_count $qc (admin + I/O queues), $(nproc) CPUs"
[ "$qc" -ge $(( $(nproc) + 1 )) ] || fail "only $((qc - 1)) I/O queues for $(nproc) CPUs"
fio_verify "$DEV" 4k "$FIO_SIZE" 2
fio_verify "$DEV" 128k "$FIO_SIZE" 2
step "nvme disconnect -n $NQN"
disconnect "$NQN"

# ---------------------------------------------------------------- header and data digests
step "nvme connect --hdr-digest --data-digest -n $NQN"
connect_ctrl "$NQN" --hdr-digest --data-digest
fio_verify "$DEV" 4k 4M 2
fio_verify "$DEV" 128k 8M 1
step "nvme disconnect -n $NQN"
disconnect "$NQN"

# ---------------------------------------------------------------- host access control
if [ -n "$RNQN" ]; then
    other=nqn.2014-08.org.nvmexpress:uuid:$(cat /proc/sys/kernel/random/uuid)
    step "nvme connect -n $RNQN --hostnqn $other (must be refused)"
    before=$(ls /sys/class/nvme 2>/dev/null)
    if nvme connect -t tcp -a "$ADDR" -s "$PORT" -n "$RNQN" -l 5 -q "$other" -I "$(cat /proc/sys/kernel/random/uuid)"; then
        fail "$RNQN accepted host $other; it allows only $RHOST"
    fi
    echo "refused, as it should be"
    [ "$(ls /sys/class/nvme 2>/dev/null)" = "$before" ] || fail "a controller appeared although the connect was refused"
    step "nvme connect -n $RNQN --hostnqn $RHOST (allowed)"
    connect_ctrl "$RNQN" -q "$RHOST" -I "$(cat /proc/sys/kernel/random/uuid)"
    check_ns "$DEV" "$RNS_BYTES"
    fio_verify "$DEV" 4k 4M 1
    step "nvme disconnect -n $RNQN"
    disconnect "$RNQN"
fi

step "done"
echo "NVME-TCP-GUEST-OK ($(( $(date +%s) - T0 ))s in the guest)"
