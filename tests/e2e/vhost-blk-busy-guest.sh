#!/bin/bash
# GUEST script of VhostDeleteNeighbourGuestIT (scenario S2): a VM busy on its vhost-user-blk disk /dev/vda,
# then going away. Prints "VHOST-BUSY-RUNNING" once fio runs, fio randrw (4 KiB, qd 16) for SECONDS, then
# "VHOST-BUSY-SHUTTING-DOWN" and exits (the harness powers the guest off). I/O errors are expected when the
# controller is deleted under it: they are not checked.
# usage: vhost-blk-busy-guest.sh SECONDS
SECONDS_TO_RUN=${1:?seconds}
for i in $(seq 1 50); do [ -b /dev/vda ] && break; sleep 0.1; done
[ -b /dev/vda ] || { echo "no /dev/vda"; exit 1; }
(sleep 1; echo "VHOST-BUSY-RUNNING") &
fio --name=busy --filename=/dev/vda --direct=1 --ioengine=libaio --rw=randrw --bs=4k --iodepth=16 \
    --size=32M --time_based --runtime="$SECONDS_TO_RUN" --eta=never --minimal > /dev/null 2>&1
echo "VHOST-BUSY-SHUTTING-DOWN"
