#!/bin/bash
# GUEST script (run-vhost-guest-fio.sh boots it with ../shared/guest/guest-run.sh and a vhost-user-blk-pci disk):
# fio 4 KiB randread and randwrite at queue depth 1 and 32 (one job, libaio, O_DIRECT) on /dev/vda for SECONDS each,
# after a short warm-up. Prints one line per row: "ROW <rw> <qd> <IOPS> <mean completion latency us>", then
# "VHOST-GUEST-FIO-OK"; a fio failure prints "VHOST-GUEST-FIO-FAIL: why" and exits 1.
# usage: vhost-guest-fio.sh [SECONDS=10]
set -uo pipefail
SECS=${1:-10}
DEV=/dev/vda
for _ in $(seq 1 50); do [ -b $DEV ] && break; sleep 0.1; done
[ -b $DEV ] || { echo "VHOST-GUEST-FIO-FAIL: no $DEV ($(ls /sys/block))"; exit 1; }
echo "$DEV: $(cat /sys/block/vda/size) sectors, $(ls /sys/block/vda/mq | wc -l) queues," \
    "logical block $(cat /sys/block/vda/queue/logical_block_size)"
row() { # RW QD SECONDS
    local out
    out=$(fio --name=row --filename=$DEV --direct=1 --ioengine=libaio --rw="$1" --bs=4k --iodepth="$2" --size=512M \
        --time_based --runtime="$3" --output-format=json 2>&1) \
        || { echo "VHOST-GUEST-FIO-FAIL: fio $1 qd $2: $(echo "$out" | tail -3)"; exit 1; }
    echo "$out" | python3 -c '
import json, sys
j = json.load(sys.stdin)["jobs"][0]
side = j["read"] if sys.argv[1].endswith("read") else j["write"]
if j["error"]: sys.exit("fio error %d" % j["error"])
print("ROW %s %s %.0f %.1f" % (sys.argv[1], sys.argv[2], side["iops"], side["clat_ns"]["mean"] / 1000))' "$1" "$2" \
        || { echo "VHOST-GUEST-FIO-FAIL: fio $1 qd $2 output"; exit 1; }
}
row randread 32 2 > /dev/null # warm-up: the guest's page cache of fio itself, the target's JIT
for rw in randread randwrite; do
    for qd in 1 32; do
        row $rw $qd "$SECS"
    done
done
echo "VHOST-GUEST-FIO-OK"
