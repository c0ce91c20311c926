#!/usr/bin/env bash
# Keel's vhost-user-blk target against SPDK's in one run, loaded by the same real initiator: SPDK's bdevperf with
# its virtio-user bdev (bdev_virtio_attach_controller, trtype user, two virtqueues) on core 1, and the target —
# `taskset -c 0 keel start -m 0x1 --pin` (one poll-mode reactor) or SPDK's `vhost -m 0x1` — on core 0 serving a null bdev
# (4 KiB blocks) as controller vhost.0. Per round each target is started, warmed up 2 s with each row's shape
# (the QD1 row right after a QD32-only warm-up ran while the JIT still compiled on the target's core), measured on every row, and
# stopped; the targets alternate round by round (the VM is shared and noisy). Rows: 4 KiB randread at QD 1, 32 and
# 128, 4 KiB randwrite at QD 128. Prints each pair and the median Keel/SPDK ratio per row.
# SPDK comes from ../shared/peers/spdk (built with build.sh; sourced from $SPDK_ENV, default
# /var/tmp/spdk-peer/spdk-env.sh): SPDK's processes take 512 MiB of hugepages each (-s 512).
# Usage: keel-bench/compare-vhost-spdk.sh [rounds=3] [seconds=5]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=${1:-3}
secs=${2:-5}
# shellcheck disable=SC1090
. "${SPDK_ENV:-/var/tmp/spdk-peer/spdk-env.sh}" >/dev/null 2>&1
[[ -x "${SPDK_BDEVPERF:-}" && -x "${SPDK_BIN:-}/vhost" ]] \
  || { echo "SPDK's bdevperf and vhost are not built (see ../shared/peers/spdk/README.md)" >&2; exit 2; }
dir=/var/tmp/keel-bench/vhost
rm -rf "$dir"
mkdir -p "$dir/keel" "$dir/spdk"
# shellcheck source=keel-bench/bench-target.sh
. "$root/keel-bench/bench-target.sh"
vhost_null_target_json 262144 4096 > "$dir/target.json"
host_json() { # SOCKET -> the initiator's config
  cat <<JSON
{"subsystems":[{"subsystem":"bdev","config":[
 {"method":"bdev_virtio_attach_controller","params":{"name":"VirtioBlk0","trtype":"user","traddr":"$1",
  "dev_type":"blk","vq_count":2,"vq_size":512}}]}]}
JSON
}
host_json "$dir/keel/vhost.0" > "$dir/host-keel.json"
host_json "$dir/spdk/vhost.0" > "$dir/host-spdk.json"
"$root/keel" --version >/dev/null   # build once, before the timed runs

start_target() { # keel|spdk
  rm -f "$dir/$1/vhost.0" "$dir/$1.sock"
  if [[ $1 == keel ]]; then
    # the whole JVM on core 0 (its compiler, GC and watchdog threads too), as SPDK's process is on its mask:
    # with only the reactor pinned they took turns with the initiator on core 1 and cut its IOPS by 5-30x
    bench_target_start "$dir/keel-target.log" \
      taskset -c 0 "$root/keel" start -m 0x1 --pin -c "$dir/target.json" -r "$dir/keel.sock" -S "$dir/keel"
  else
    bench_target_start "$dir/spdk-target.log" \
      "$SPDK_BIN/vhost" -m 0x1 -s 512 -r "$dir/spdk.sock" -S "$dir/spdk" --json "$dir/target.json"
  fi
  for _ in $(seq 150); do
    [[ -S "$dir/$1/vhost.0" ]] && return 0
    sleep 0.2
  done
  echo "the $1 target did not come up: see $dir/$1-target.log" >&2
  exit 1
}
iops() { # keel|spdk QD WORKLOAD SECONDS
  "$SPDK_BDEVPERF" --json "$dir/host-$1.json" -m 0x2 -g -s 512 -q "$2" -o 4096 -w "$3" -t "$4" 2>&1 \
    | tee -a "$dir/bdevperf-$1.log" | python3 -c "
import re, sys
for line in sys.stdin:
    if re.match(r'\s*Total\s*:', line):
        print(round(float(line.split(':')[1].split()[0])))"
}
rows=("randread 1" "randread 32" "randread 128" "randwrite 128")
declare -A got
for r in $(seq "$rounds"); do
  for t in keel spdk; do
    start_target "$t"
    for row in "${rows[@]}"; do   # warm-up with every row's shape (Keel's JIT; both: the session and its memory)
      set -- $row
      iops "$t" "$2" "$1" 2 > /dev/null
    done
    for row in "${rows[@]}"; do
      set -- $row
      got["$r $t $1 $2"]=$(iops "$t" "$2" "$1" "$secs")
    done
    bench_target_stop
  done
  for row in "${rows[@]}"; do
    set -- $row
    echo "round $r: 4 KiB $1 QD $2: Keel ${got["$r keel $1 $2"]:-?} SPDK ${got["$r spdk $1 $2"]:-?} IOPS"
  done
done
for row in "${rows[@]}"; do
  set -- $row
  pairs=""
  for r in $(seq "$rounds"); do pairs+="${got["$r keel $1 $2"]:-0}/${got["$r spdk $1 $2"]:-1} "; done
  python3 -c "
import statistics
p = [tuple(map(float, x.split('/'))) for x in '$pairs'.split()]
k = statistics.median(a for a, _ in p); s = statistics.median(b for _, b in p)
print(f'4 KiB $1 QD $2: Keel {k:,.0f} SPDK {s:,.0f} IOPS (medians); Keel/SPDK {statistics.median(a / b for a, b in p):.2f}')"
done
