#!/usr/bin/env bash
# Keel's raid1 against SPDK's in one run: `keel bdevperf` and SPDK's bdevperf (../shared/peers/spdk, built with
# build.sh; sourced from $SPDK_ENV, default /var/tmp/spdk-peer/spdk-env.sh) alternate on the same core and the same
# config (raid1 R1 over two 256 MiB malloc bdevs, and a malloc bdev M2 alone), 4 KiB randread QD 128.
# Prints each pair, Keel/SPDK per bdev and each one's raid1/malloc ratio per round.
# Usage: keel-bench/compare-raid-spdk.sh [rounds=3] [seconds=5]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=${1:-3}
secs=${2:-5}
# shellcheck disable=SC1090
. "${SPDK_ENV:-/var/tmp/spdk-peer/spdk-env.sh}" >/dev/null 2>&1
[[ -x "${SPDK_BDEVPERF:-}" ]] || { echo "SPDK's bdevperf is not built (see ../shared/peers/spdk/README.md)" >&2; exit 2; }
dir=/var/tmp/keel-bench
mkdir -p "$dir"
cat > "$dir/raid-spdk.json" <<'JSON'
{"subsystems":[{"subsystem":"bdev","config":[
 {"method":"bdev_malloc_create","params":{"name":"M0","num_blocks":65536,"block_size":4096}},
 {"method":"bdev_malloc_create","params":{"name":"M1","num_blocks":65536,"block_size":4096}},
 {"method":"bdev_malloc_create","params":{"name":"M2","num_blocks":65536,"block_size":4096}},
 {"method":"bdev_raid_create","params":{"name":"R1","raid_level":"raid1","base_bdevs":["M0","M1"]}}]}]}
JSON
"$root/keel" --version >/dev/null   # build once, before the timed runs
keel_iops() {
  "$root/keel" bdevperf -c "$dir/raid-spdk.json" -T "$1" -m 0x2 --pin -q 128 -o 4096 -w randread -t "$secs" --json \
    2>/dev/null | python3 -c "import json,sys; print(round(json.load(sys.stdin)['total']['iops']))"
}
spdk_iops() {
  "$SPDK_BDEVPERF" --json "$dir/raid-spdk.json" -T "$1" -m 0x2 -q 128 -o 4096 -w randread -t "$secs" 2>&1 \
    | python3 -c "
import re, sys
for line in sys.stdin:
    if re.match(r'\s*Total\s*:', line):
        print(round(float(line.split(':')[1].split()[0])))"
}
for r in $(seq "$rounds"); do
  kr=$(keel_iops R1); sr=$(spdk_iops R1); km=$(keel_iops M2); sm=$(spdk_iops M2)
  python3 -c "print(f'round $r: raid1 Keel $kr SPDK $sr (Keel/SPDK {$kr/$sr:.2f}); malloc Keel $km SPDK $sm ({$km/$sm:.2f}); raid1/malloc Keel {$kr/$km:.2f} SPDK {$sr/$sm:.2f}')"
done
