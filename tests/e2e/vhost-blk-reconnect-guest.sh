#!/bin/bash
# GUEST script of VhostReconnectGuestIT: a guest writing its vhost-user-blk disk while the back end (Keel) is
# killed and started again; QEMU reconnects (chardev reconnect=1) and hands the new back end its inflight region.
# Prints "VHOST-RECONNECT-WRITING" once fio writes, writes BYTES of 4 KiB random blocks with fio's verify headers
# (qd 16), prints "VHOST-RECONNECT-WRITTEN", then reads all of it back and checks every block (crc32c).
# Ends with "VHOST-RECONNECT-OK" and exit 0; a failure prints "VHOST-RECONNECT-FAIL: why", exit 1.
# usage: vhost-blk-reconnect-guest.sh BYTES
set -uo pipefail
BYTES=${1:?bytes}
DEV=/dev/vda
fail() { echo "VHOST-RECONNECT-FAIL: $*"; dmesg | grep -iE 'virtio|vda|blk' | tail -n 20 | sed 's/^/[dmesg] /'; exit 1; }
job() { fio --name=reconnect --filename=$DEV --direct=1 --ioengine=libaio --rw=randwrite --bs=4k --iodepth=16 \
    --size="$BYTES" --verify=crc32c --eta=never "$@"; }

for i in $(seq 1 50); do [ -b $DEV ] && break; sleep 0.1; done
[ -b $DEV ] || fail "no $DEV"
(sleep 2; echo "VHOST-RECONNECT-WRITING") &
job --do_verify=0 > /tmp/write.log 2>&1 || { cat /tmp/write.log; fail "fio write exited with $?"; }
echo "VHOST-RECONNECT-WRITTEN"
job --verify_only --do_verify=1 --verify_fatal=1 > /tmp/verify.log 2>&1 \
    || { cat /tmp/verify.log; fail "fio verify exited with $?"; }
grep -E "WRITE|READ|err=" /tmp/write.log /tmp/verify.log | head -n 6
echo "VHOST-RECONNECT-OK"
