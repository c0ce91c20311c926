#!/usr/bin/env bash
# The RAID benchmark of docs/benchmarks.md: `keel bdevperf` on one pinned poll-mode core drives, in the same run and
# interleaved case by case, a raid1 over two malloc bdevs (R1) and a malloc bdev alone (M2), 4 KiB randread and
# randwrite at QD 128; then the rebuild throughput of a 1 GiB raid1 member on an idle target (`keel start`, one
# pinned poll-mode reactor): remove a member, add a fresh malloc bdev, time the rebuild from Keel's log; the same
# rebuild under a 4 KiB randread load on the same core, with the load's IOPS with and without it; memcpy bandwidth.
# Prints the IOPS of each pair and their ratio, then the rebuild MiB/s. Rounds 0: the rebuild part only.
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
# A JSON-RPC call without a JVM start (keel-bench/rpc.py): rpc SOCK METHOD [PARAMS]
rpc() { python3 "$root/keel-bench/rpc.py" "$@"; }
# Waits until LOG says the rebuild is done, then prints its time and rate from the log's own timestamps (start and end lines of the raid module).
rebuild_seconds() {  # log label
  for i in $(seq 1200); do grep -q "rebuild onto M3 done" "$1" && break; sleep 0.1; done
  python3 - "$1" "$2" <<'PY'
import re, sys, datetime
t = {}
for line in open(sys.argv[1]):
    m = re.match(r"\[(\S+ \S+)\].*raid R1: (rebuilding onto M3|rebuild onto M3 done)", line)
    if m:
        t[m.group(2)] = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
s = (t["rebuild onto M3 done"] - t["rebuilding onto M3"]).total_seconds()
print(f"{sys.argv[2]}: {s:.2f} s, {1024 / s:.0f} MiB/s")
PY
}
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
for i in $(seq 100); do rpc "$sock" framework_wait_init >/dev/null 2>&1 && break; sleep 0.2; done
rpc "$sock" bdev_raid_remove_base_bdev '{"name":"M1"}' >/dev/null
rpc "$sock" bdev_raid_add_base_bdev '{"raid_bdev":"R1","base_bdev":"M3"}' >/dev/null
rebuild_seconds "$dir/raid-rebuild.log" "1 GiB rebuild on an idle target"
kill $target; wait $target 2>/dev/null || true
trap - EXIT

# The same rebuild under foreground load: `keel bdevperf` on the same pinned core runs 4 KiB randread at QD 32 on R1
# (through its RPC socket the member is removed and a fresh one added once the load runs); the rebuild shares the
# core with the load, as SPDK's rebuild thread shares a reactor.
load_sock="$dir/raid-bench-load.sock"
rm -f "$load_sock"
"$root/keel" bdevperf -c "$dir/raid-rebuild.json" -T R1 -m 0x1 --pin -q 32 -o 4096 -w randread -t 20 -r "$load_sock" \
  --json > "$dir/raid-rebuild-load.json" 2> "$dir/raid-rebuild-load.log" &
load=$!
for i in $(seq 100); do rpc "$load_sock" bdev_get_bdevs '{"name":"R1"}' >/dev/null 2>&1 && break; sleep 0.2; done
sleep 2
rpc "$load_sock" bdev_raid_remove_base_bdev '{"name":"M1"}' >/dev/null
rpc "$load_sock" bdev_raid_add_base_bdev '{"raid_bdev":"R1","base_bdev":"M3"}' >/dev/null
rebuild_seconds "$dir/raid-rebuild-load.log" "1 GiB rebuild under 4 KiB randread QD32 on the same core"
wait $load || true
python3 -c "import json; r=json.load(open('$dir/raid-rebuild-load.json')); print(f\"foreground randread, 20 s run with the rebuild in it: {round(r['total']['iops'])} IOPS\")"
"$root/keel" bdevperf -c "$dir/raid-rebuild.json" -T R1 -m 0x1 --pin -q 32 -o 4096 -w randread -t 20 --json 2>/dev/null \
  | python3 -c "import json,sys; print(f\"foreground randread, 20 s run without a rebuild: {round(json.load(sys.stdin)['total']['iops'])} IOPS\")"

# The machine's memory copy bandwidth, the ceiling of a copy between two malloc bdevs.
"$root/keel-bench/run-memcpy-bench.sh"
