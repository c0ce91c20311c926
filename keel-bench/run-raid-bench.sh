#!/usr/bin/env bash
# The RAID benchmark of docs/benchmarks.md: `keel bdevperf` on one pinned poll-mode core drives, in the same run and
# interleaved case by case, a raid1 over two malloc bdevs (R1) and a malloc bdev alone (M2), 4 KiB randread and
# randwrite at QD 128; then the rebuild throughput of a 1 GiB raid1 member on an idle target (`keel start`, one
# pinned poll-mode reactor): remove a member, add a fresh malloc bdev, time until the rebuild ends.
# Prints the IOPS of each pair and their ratio, then the rebuild MiB/s.
# Usage: keel-bench/run-raid-bench.sh [rounds=3] [seconds=5]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=${1:-3}
secs=${2:-5}
dir=/var/tmp/keel-bench
mkdir -p "$dir"
cat > "$dir/raid-bench.json" <<'JSON'
{"subsystems":[{"subsystem":"bdev","config":[
 {"method":"bdev_malloc_create","params":{"name":"M0","num_blocks":262144,"block_size":4096}},
 {"method":"bdev_malloc_create","params":{"name":"M1","num_blocks":262144,"block_size":4096}},
 {"method":"bdev_malloc_create","params":{"name":"M2","num_blocks":262144,"block_size":4096}},
 {"method":"bdev_raid_create","params":{"name":"R1","raid_level":"raid1","base_bdevs":["M0","M1"]}}]}]}
JSON
"$root/keel" --version >/dev/null   # build once, before the timed runs
iops() {  # bdev workload
  "$root/keel" bdevperf -c "$dir/raid-bench.json" -T "$1" -m 0x2 --pin -q 128 -o 4096 -w "$2" -t "$secs" --json \
    2>/dev/null | python3 -c "import json,sys; print(round(json.load(sys.stdin)['total']['iops']))"
}
for r in $(seq "$rounds"); do
  for w in randread randwrite; do
    raid=$(iops R1 "$w")
    malloc=$(iops M2 "$w")
    echo "round $r $w QD128 4 KiB: raid1 $raid IOPS, malloc $malloc IOPS, raid1/malloc $(python3 -c "print(round($raid/$malloc, 2))")"
  done
done

sock="$dir/raid-bench.sock"
cat > "$dir/raid-rebuild.json" <<'JSON'
{"subsystems":[{"subsystem":"bdev","config":[
 {"method":"bdev_malloc_create","params":{"name":"M0","num_blocks":262144,"block_size":4096}},
 {"method":"bdev_malloc_create","params":{"name":"M1","num_blocks":262144,"block_size":4096}},
 {"method":"bdev_malloc_create","params":{"name":"M3","num_blocks":262144,"block_size":4096}},
 {"method":"bdev_raid_create","params":{"name":"R1","raid_level":"raid1","base_bdevs":["M0","M1"]}}]}]}
JSON
"$root/keel" start -m 0x1 --pin -c "$dir/raid-rebuild.json" -r "$sock" > "$dir/raid-rebuild.log" 2>&1 &
target=$!
trap 'kill $target 2>/dev/null; wait $target 2>/dev/null || true' EXIT
for i in $(seq 100); do "$root/keel" rpc -s "$sock" framework_wait_init >/dev/null 2>&1 && break; sleep 0.2; done
"$root/keel" rpc -s "$sock" bdev_raid_remove_base_bdev '{"name":"M1"}' >/dev/null
start=$(date +%s.%N)
"$root/keel" rpc -s "$sock" bdev_raid_add_base_bdev '{"raid_bdev":"R1","base_bdev":"M3"}' >/dev/null
while "$root/keel" rpc -s "$sock" bdev_raid_get_bdevs '{"category":"all"}' | grep -q '"process"'; do sleep 0.05; done
end=$(date +%s.%N)
python3 -c "s=$end-$start; print(f'rebuild of 1 GiB: {s:.2f} s, {1024/s:.0f} MiB/s')"
