#!/bin/bash
# GUEST script (run it with ../shared/guest/guest-run.sh and
# -q "-chardev socket,id=vu,path=SOCK -device vhost-user-blk-pci,chardev=vu,num-queues=2"): the Linux
# virtio-blk driver on a disk that Keel's vhost-user-blk controller serves.
#
# usage: vhost-blk-guest.sh first|second SERIAL BYTES
#   first    checks the disk (size, two queues, GET_ID serial), fio randrw verify=crc32c with two jobs on
#            their own halves, blkdiscard and blkdiscard -z (discard, write zeroes) read back as zeroes, then
#            writes a verifiable region (fio verify headers) for the second boot and syncs
#   second   a later guest on the same controller: verifies the region the first one wrote
#   SERIAL   what /sys/block/vda/serial must read (virtio-blk GET_ID: the bdev's name)
#   BYTES    the disk's size
# Ends with "VHOST-BLK-GUEST-OK" and exit 0; any failed check prints "VHOST-BLK-GUEST-FAIL: why", exit 1.
set -uo pipefail
PHASE=${1:?first|second}; SERIAL=${2:?serial}; BYTES=${3:?bytes}
DEV=/dev/vda
T0=$(date +%s)

step() { echo; echo "=== [$(( $(date +%s) - T0 ))s] $*"; }
fail() { echo; echo "VHOST-BLK-GUEST-FAIL: $*"; dmesg | grep -iE 'virtio|vda|blk' | tail -n 20 | sed 's/^/[dmesg] /'; exit 1; }
run() { echo "+ $*"; "$@" || fail "'$*' exited with status $?"; }
# the region the first boot leaves for the second: fio's own verify headers (seeded by offset)
persist() { run fio --name=persist --filename=$DEV --direct=1 --ioengine=libaio --rw=write --bs=64k --iodepth=4 \
    --offset=$((BYTES / 2)) --size=8M --verify=crc32c --eta=never "$@"; }

for i in $(seq 1 50); do [ -b $DEV ] && break; sleep 0.1; done
[ -b $DEV ] || fail "no $DEV: $(ls /sys/block)"
step "device"
sectors=$(cat /sys/block/vda/size)
queues=$(ls /sys/block/vda/mq | wc -l)
serial=$(cat /sys/block/vda/serial 2>/dev/null)
echo "$sectors sectors, $queues queues, serial '$serial'"
[ "$((sectors * 512))" = "$BYTES" ] || fail "size $((sectors * 512)) != $BYTES"
[ "$queues" = 2 ] || fail "$queues queues, not 2"
[ "$serial" = "$SERIAL" ] || fail "serial '$serial' != '$SERIAL'"

if [ "$PHASE" = second ]; then
    step "verify what the first guest wrote"
    persist --verify_only --do_verify=1 --verify_fatal=1
    echo "VHOST-BLK-GUEST-OK"
    exit 0
fi

half=$((BYTES / 4))
step "fio randrw verify=crc32c, two jobs on their own quarter, qd 16"
run fio --name=verify --filename=$DEV --direct=1 --ioengine=libaio --rw=randrw --bs=4k --iodepth=16 --numjobs=2 \
    --size=$half --offset_increment=$half --verify=crc32c --do_verify=1 --verify_fatal=1 --eta=never \
    --group_reporting
step "fio 128k sequential write + verify"
run fio --name=big --filename=$DEV --direct=1 --ioengine=libaio --rw=write --bs=128k --iodepth=4 \
    --size=8M --verify=crc32c --do_verify=1 --verify_fatal=1 --eta=never

# (no /dev/fd in the guest: no process substitution; compare through files)
readback() { # OFFSET LENGTH -> /tmp/got
    dd if=$DEV of=/tmp/got bs=4096 skip=$(($1 / 4096)) count=$(($2 / 4096)) iflag=direct status=none \
        || fail "reading $2 bytes at $1"
}
head -c $((1 << 20)) /dev/zero > /tmp/zero
for how in discard zeroout; do
    step "blkdiscard ($how): the range reads back as zeroes, its neighbours keep their data"
    run dd if=/dev/urandom of=/tmp/pattern bs=1M count=3 status=none
    run dd if=/tmp/pattern of=$DEV bs=1M seek=3 count=3 oflag=direct conv=fsync status=none
    if [ $how = discard ]; then run blkdiscard -o $((4 << 20)) -l $((1 << 20)) $DEV
    else run blkdiscard -z -o $((4 << 20)) -l $((1 << 20)) $DEV; fi
    readback $((3 << 20)) $((3 << 20))
    cmp -n $((1 << 20)) /tmp/got /tmp/pattern || fail "$how: the data before the range changed"
    cmp -n $((1 << 20)) -i $((1 << 20)):0 /tmp/got /tmp/zero || fail "$how: the range is not zeroes"
    cmp -i $((2 << 20)) /tmp/got /tmp/pattern || fail "$how: the data after the range changed"
done

step "leave a verifiable region for the next boot"
persist --do_verify=0
sync
echo "VHOST-BLK-GUEST-OK"
