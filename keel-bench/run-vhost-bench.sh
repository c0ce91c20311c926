#!/usr/bin/env bash
# The vhost benchmarks of docs/benchmarks.md, measured as SPDK measures its vhost (no VM): Keel's target (`keel start`,
# one poll-mode reactor pinned to core 0) serves vhost-blk controllers over a null bdev and a malloc bdev; `keel
# bdevperf` on core 1 attaches each through the virtio bdev module (the virtio-user initiator:
# bdev_virtio_attach_controller in its config, one virtqueue per bdevperf core) and drives it: 4 KiB randread and
# randwrite at QD 1, 32 and 128, after a warm-up run per bdev. Cases are interleaved round by round (the VM is shared
# and noisy); medians of IOPS with min and max, the latency of the median round, and the bytes bdevperf's reactor
# allocated per I/O (the initiator side) are printed.
# Usage: keel-bench/run-vhost-bench.sh [rounds=3] [seconds=5]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=${1:-3}
secs=${2:-5}
dir=/var/tmp/keel-bench
vdir="$dir/vhost-sockets"
mkdir -p "$vdir"
sock="$dir/vhost-target.sock"
cat > "$dir/vhost-target.json" <<JSON
{"subsystems":[
 {"subsystem":"bdev","config":[
  {"method":"bdev_null_create","params":{"name":"Null0","num_blocks":2097152,"block_size":512}},
  {"method":"bdev_malloc_create","params":{"name":"Malloc0","num_blocks":524288,"block_size":512}}]},
 {"subsystem":"vhost_blk","config":[
  {"method":"vhost_create_blk_controller","params":{"ctrlr":"vhost.null","dev_name":"Null0","cpumask":"0x1"}},
  {"method":"vhost_create_blk_controller","params":{"ctrlr":"vhost.malloc","dev_name":"Malloc0","cpumask":"0x1"}}]}]}
JSON
for b in null malloc; do
  cat > "$dir/vhost-$b.json" <<JSON
{"subsystems":[{"subsystem":"bdev","config":[
  {"method":"bdev_virtio_attach_controller","params":{"name":"Virtio_$b","trtype":"user","traddr":"$vdir/vhost.$b",
   "dev_type":"blk","vq_count":1,"vq_size":512}}]}]}
JSON
done
"$root/keel" --version >/dev/null   # build once, before the timed runs
"$root/keel" start -m 0x1 --pin -S "$vdir" -c "$dir/vhost-target.json" -r "$sock" > "$dir/vhost-target.log" 2>&1 &
target=$!
trap 'kill $target 2>/dev/null; wait $target 2>/dev/null || true' EXIT
for i in $(seq 100); do
  "$root/keel" rpc -s "$sock" framework_wait_init >/dev/null 2>&1 && break
  sleep 0.2
done
# a run per bdev first, not recorded: the target's JIT warms up and malloc's pages are backed
for b in null malloc; do
  "$root/keel" bdevperf -c "$dir/vhost-$b.json" -T "Virtio_$b" -m 0x2 --pin -q 32 -o 4096 -w randread -t 2 \
      >/dev/null 2>&1 || true
done
out="$dir/vhost-results.txt"
: > "$out"
for r in $(seq "$rounds"); do
  for b in null malloc; do
    for c in "randread 1" "randread 32" "randread 128" "randwrite 1" "randwrite 32" "randwrite 128"; do
      set -- $c
      # a failed run (an attach that timed out on an overloaded machine, ...) is reported and left out
      if ! "$root/keel" bdevperf -c "$dir/vhost-$b.json" -T "Virtio_$b" -m 0x2 --pin -q "$2" -o 4096 -w "$1" \
          -t "$secs" --json > "$dir/vhost-run.json" 2> "$dir/vhost-run.err"; then
        echo "run-vhost-bench: $b $1 QD $2 failed: $(grep -m1 -i 'fail' "$dir/vhost-run.err")" >&2
        continue
      fi
      python3 -c "import json,sys; print('$b $1 $2', json.dumps(json.load(sys.stdin)))" < "$dir/vhost-run.json" >> "$out"
    done
  done
done
python3 - "$out" <<'PY'
import json, sys, statistics
rows = {}
for line in open(sys.argv[1]):
    b, w, q, js = line.split(' ', 3)
    d = json.loads(js)
    t = d.get('total', d)
    rows.setdefault((b, w, int(q)), []).append((t['iops'], t.get('avg_latency_us'), t.get('p50_latency_us'),
                                                t.get('p99_latency_us'), d.get('allocation', {}).get('bytes_per_io')))
print(f"{'bdev':7} {'workload':10} {'QD':>4} {'IOPS median':>12} {'min':>11} {'max':>11} {'avg us':>8} {'p50 us':>8} {'p99 us':>8} {'init B/IO':>9}")
for (b, w, q), v in rows.items():
    iops = sorted(x[0] for x in v)
    med = statistics.median(iops)
    mid = min(v, key=lambda x: abs(x[0] - med))
    f = lambda x: '-' if x is None else f"{x:,.2f}"
    print(f"{b:7} {w:10} {q:>4} {med:>12,.0f} {iops[0]:>11,.0f} {iops[-1]:>11,.0f} {f(mid[1]):>8} {f(mid[2]):>8} "
          f"{f(mid[3]):>8} {f(mid[4]):>9}")
PY
