#!/usr/bin/env bash
# One NVMe/TCP target process, many short spdk_nvme_perf runs against it: each run is a new connection, so this
# tells a rate that changes per connection (issue 12's randwrite QD128, 2026-12-05: Keel 0.6-1.0 M from one run to
# the next in one process, SPDK's nvmf_tgt steady) from one that changes per process (compare several processes).
# The target on core 0 — `taskset -c 0 keel start -m 0x1 --pin` or `nvmf_tgt -m 0x1` — serves a null bdev (4 KiB
# blocks) as namespace 1 of cnode1 on 127.0.0.1; spdk_nvme_perf runs on core 1. Prints one line per process: the
# IOPS of each run (the first run doubles as the warm-up).
# Needs SPDK's tools (keel-bench/spdk-nvmf-tools.sh says where it looks); without them it says so and exits 0. Not
# part of ./test.sh.
# Usage: keel-bench/nvmf-runs-per-connection.sh [keel|spdk] [processes=3] [runs=6] [workload=randwrite] [qd=128]
#        [seconds=3] [port=4420]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target=${1:-keel}
processes=${2:-3}
runs=${3:-6}
workload=${4:-randwrite}
qd=${5:-128}
secs=${6:-3}
port=${7:-4420}
# shellcheck source=keel-bench/spdk-nvmf-tools.sh
. "$root/keel-bench/spdk-nvmf-tools.sh"   # SPDK's tools, or exit 0; wait_tcp_listener
dir=/var/tmp/keel-bench/runs-per-connection
rm -rf "$dir"
mkdir -p "$dir"
nqn=nqn.2016-06.io.spdk:cnode1
# shellcheck source=keel-bench/nvme-host-configs.sh
. "$root/keel-bench/nvme-host-configs.sh"   # the target's config: $dir/nvme-host-target.json
# shellcheck source=keel-bench/bench-target.sh
. "$root/keel-bench/bench-target.sh"
[[ $target == keel ]] && "$root/keel" --version >/dev/null   # build once, before the timed runs
trid="trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$port subnqn:$nqn"
for p in $(seq "$processes"); do
  if [[ $target == keel ]]; then
    bench_target_start "$dir/target.log" taskset -c 0 "$root/keel" start -m 0x1 --pin \
      -c "$dir/nvme-host-target.json" -r "$dir/target.sock"
  else
    bench_target_start "$dir/target.log" \
      "$SPDK_BIN/nvmf_tgt" -m 0x1 -s 512 -r "$dir/target.sock" --json "$dir/nvme-host-target.json"
  fi
  wait_tcp_listener "$port" "the $target target" "$dir/target.log"
  line="process $p ($target, $workload QD$qd, ${secs} s runs):"
  for _ in $(seq "$runs"); do
    iops=$("$SPDK_BIN/spdk_nvme_perf" -q "$qd" -o 4096 -w "$workload" -t "$secs" -c 0x2 -r "$trid" 2>&1 \
      | tee -a "$dir/perf.log" | tr '\r' '\n' | awk -F: '/^ *Total *:/ {split($2, a, " "); printf "%d", a[1] / 1000}')
    line+=" ${iops:-0}K"
  done
  echo "$line"
  bench_target_stop
done
