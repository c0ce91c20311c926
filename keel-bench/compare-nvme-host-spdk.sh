#!/usr/bin/env bash
# Keel's NVMe-oF host against SPDK's, side by side: both bdevperfs (SPDK's, built by ../shared/peers/spdk/build.sh,
# and `keel bdevperf`) attach Keel's target through bdev_nvme_attach_controller and run the same cases on core 1,
# interleaved case by case (A, B, A, B: the VM is shared and noisy), while the target (`keel start`, one poll-mode
# reactor pinned to core 0) serves a 1 GiB null bdev. Prints each pair's IOPS and what each host's I/O cost the
# target: its reactor's busy time over the run divided by the I/Os (when both hosts cost it the same and it is busy
# all the time, the target sets the pace).
# Usage: keel-bench/compare-nvme-host-spdk.sh [rounds=3] [seconds=5] [port=14434]   (needs /var/tmp/spdk-peer)
# CASES="read 16 131072;randread 1 4096" runs only those cases (workload, QD, bytes; separated by ';').
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=${1:-3}
secs=${2:-5}
port=${3:-14434}
. /var/tmp/spdk-peer/spdk-env.sh >/dev/null
dir=${KEEL_BENCH_DIR:-/var/tmp/keel-bench}
mkdir -p "$dir"
nqn=nqn.2016-06.io.spdk:cnode1
. "$root/keel-bench/nvme-host-configs.sh"
"$root/keel" --version >/dev/null
taskset -c 0 "$root/keel" start -m 0x1 --pin -c "$dir/nvme-host-target.json" -r "$dir/cmp.sock" > "$dir/cmp-target.log" 2>&1 &
target=$!
trap 'kill $target 2>/dev/null; wait $target 2>/dev/null || true' EXIT
for i in $(seq 100); do "$root/keel" rpc -s "$dir/cmp.sock" framework_wait_init >/dev/null 2>&1 && break; sleep 0.2; done
busy() { python3 "$root/keel-bench/target-busy.py" "$dir/cmp.sock"; }
per_io() { python3 -c "print(round(($2 - $1) / max($3 * $secs, 1)))"; }  # busy before, after, IOPS
for r in $(seq "$rounds"); do
  IFS=';' read -ra cases <<< "${CASES:-randread 1 4096;randread 32 4096;randread 128 4096;randwrite 128 4096;read 16 131072}"
  for c in "${cases[@]}"; do
    set -- $c
    b0=$(busy)
    "$SPDK_BDEVPERF" --json "$dir/nvme-host.json" -m 0x2 -q "$2" -o "$3" -w "$1" -t "$secs" > "$dir/cmp-spdk.txt" 2>&1
    b1=$(busy)
    spdk=$(grep -aoE "Total +: +[0-9.]+" "$dir/cmp-spdk.txt" | awk '{print int($3)}')
    keel=$(taskset -c 1 "$root/keel" bdevperf -c "$dir/nvme-host.json" -T Nvme0n1 -m 0x2 --pin -q "$2" -o "$3" -w "$1" -t "$secs" \
      --json 2>/dev/null | python3 -c "import json,sys; print(round(json.load(sys.stdin)['total']['iops']))")
    b2=$(busy)
    echo "round $r $1 QD$2 $3 B: SPDK host $spdk IOPS ($(per_io "$b0" "$b1" "$spdk") target ns/IO)," \
      "Keel host $keel IOPS ($(per_io "$b1" "$b2" "$keel") target ns/IO), Keel/SPDK $(python3 -c "print(round($keel / max($spdk, 1), 2))")"
  done
done
