#!/usr/bin/env bash
# The NVMe-oF host benchmarks of docs/benchmarks.md: Keel's target (`keel start`, one poll-mode reactor pinned to
# core 0) serves a null namespace over loopback; `keel bdevperf` on core 1 attaches it through the nvme bdev module
# (bdev_nvme_attach_controller in its config) and drives Nvme0n1: 4 KiB randread and randwrite at QD 1, 32 and 128,
# 128 KiB sequential read at QD 16. Cases are interleaved round by round (the VM is shared
# and noisy); medians of IOPS with min and max, the latency of the median round, and the bytes bdevperf's reactor
# allocated per I/O (the host side) are printed.
# Usage: keel-bench/run-nvme-host-bench.sh [rounds=3] [seconds=5] [port=14430]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=${1:-3}
secs=${2:-5}
port=${3:-14430}
dir=${KEEL_BENCH_DIR:-/var/tmp/keel-bench}
mkdir -p "$dir"
sock="$dir/nvme-host-target.sock"
nqn=nqn.2016-06.io.spdk:cnode1
. "$root/keel-bench/nvme-host-configs.sh"
"$root/keel" --version >/dev/null   # build once, before the timed runs
"$root/keel" start -m 0x1 --pin -c "$dir/nvme-host-target.json" -r "$sock" > "$dir/nvme-host-target.log" 2>&1 &
target=$!
trap 'kill $target 2>/dev/null; wait $target 2>/dev/null || true' EXIT
for i in $(seq 100); do
  "$root/keel" rpc -s "$sock" framework_wait_init >/dev/null 2>&1 && break
  sleep 0.2
done
out="$dir/nvme-host-results.txt"
: > "$out"
for r in $(seq "$rounds"); do
  for c in "randread 1 4096" "randread 32 4096" "randread 128 4096" "randwrite 1 4096" "randwrite 32 4096" \
      "randwrite 128 4096" "read 16 131072"; do
    set -- $c
    "$root/keel" bdevperf -c "$dir/nvme-host.json" -T Nvme0n1 -m 0x2 --pin -q "$2" -o "$3" -w "$1" -t "$secs" \
        --json 2>/dev/null | python3 -c "import json,sys; print('$1 $2 $3', json.dumps(json.load(sys.stdin)))" >> "$out"
  done
done
python3 - "$out" <<'PY'
import json, sys, statistics
rows = {}
for line in open(sys.argv[1]):
    w, q, o, js = line.split(' ', 3)
    d = json.loads(js)
    t = d.get('total', d)
    rows.setdefault((w, int(q), int(o)), []).append((t['iops'], t.get('avg_latency_us'), t.get('p50_latency_us'),
                                                     t.get('p99_latency_us'), d.get('allocation', {}).get('bytes_per_io')))
print(f"{'workload':10} {'QD':>4} {'size':>7} {'IOPS median':>12} {'min':>11} {'max':>11} {'avg us':>8} {'p50 us':>8} {'p99 us':>8} {'host B/IO':>9}")
for (w, q, o), v in rows.items():
    iops = sorted(x[0] for x in v)
    med = statistics.median(iops)
    mid = min(v, key=lambda x: abs(x[0] - med))
    f = lambda x: '-' if x is None else f"{x:,.2f}"
    print(f"{w:10} {q:>4} {o:>7} {med:>12,.0f} {iops[0]:>11,.0f} {iops[-1]:>11,.0f} {f(mid[1]):>8} {f(mid[2]):>8} "
          f"{f(mid[3]):>8} {f(mid[4]):>9}")
PY
