#!/usr/bin/env bash
# The bdev benchmarks of docs/benchmarks.md: keel bdevperf on one core, 4 KiB, null and malloc randread and
# randwrite at QD 1 and 128, and uring on a file (O_DIRECT where the file system allows) at QD 128.
# The cases are interleaved round by round (this VM is shared and noisy); medians, min and max are printed.
# Usage: keel-bench/run-bdevperf-bench.sh [rounds=3] [seconds=5] [uring file dir=/var/tmp/keel-bench]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=${1:-3}
secs=${2:-5}
dir=${3:-/var/tmp/keel-bench}
mkdir -p "$dir"
[ -f "$dir/uring.img" ] || dd if=/dev/zero of="$dir/uring.img" bs=1M count=1024 status=none
cat > "$dir/mem.json" <<JSON
{"subsystems":[{"subsystem":"bdev","config":[
 {"method":"bdev_null_create","params":{"name":"Null0","num_blocks":262144,"block_size":4096}},
 {"method":"bdev_malloc_create","params":{"name":"Malloc0","num_blocks":32768,"block_size":4096}}]}]}
JSON
cat > "$dir/uring.json" <<JSON
{"subsystems":[{"subsystem":"bdev","config":[
 {"method":"bdev_uring_create","params":{"name":"Uring0","filename":"$dir/uring.img","block_size":4096}}]}]}
JSON
"$root/keel" --version >/dev/null   # build once, before the timed runs
out="$dir/results.txt"
: > "$out"
for r in $(seq "$rounds"); do
  for bdev in Null0 Malloc0; do
    for w in randread randwrite; do
      for q in 1 128; do
        "$root/keel" bdevperf -c "$dir/mem.json" -T "$bdev" -q "$q" -o 4096 -w "$w" -t "$secs" --json 2>/dev/null \
          | python3 -c "import json,sys; print('$bdev $w $q', json.dumps(json.load(sys.stdin)))" >> "$out"
      done
    done
  done
  for w in randread randwrite; do
    "$root/keel" bdevperf -c "$dir/uring.json" -T Uring0 -q 128 -o 4096 -w "$w" -t "$secs" --json 2>/dev/null \
      | python3 -c "import json,sys; print('Uring0 $w 128', json.dumps(json.load(sys.stdin)))" >> "$out"
  done
done
python3 - "$out" <<'PY'
import json, sys, statistics
rows = {}
for line in open(sys.argv[1]):
    bdev, w, q, js = line.split(' ', 3)
    d = json.loads(js)
    t = d.get('total', d)
    rows.setdefault((bdev, w, int(q)), []).append((t['iops'], t.get('avg_latency_us'), t.get('p99_latency_us'),
                                                   d.get('allocation', {}).get('bytes_per_io')))
print(f"{'bdev':8} {'workload':10} {'QD':>4} {'IOPS median':>12} {'min':>11} {'max':>11} {'avg us':>8} {'p99 us':>8} {'B/IO':>6}")
for (bdev, w, q), v in rows.items():
    iops = sorted(x[0] for x in v)
    med = statistics.median(iops)
    mid = min(v, key=lambda x: abs(x[0] - med))
    fmt = lambda x: f"{x:,.0f}"
    print(f"{bdev:8} {w:10} {q:>4} {fmt(med):>12} {fmt(iops[0]):>11} {fmt(iops[-1]):>11} "
          f"{mid[1]:>8.2f} {mid[2]:>8.2f} {(f'{mid[3]:.2f}' if mid[3] is not None else '-'):>6}")
PY
