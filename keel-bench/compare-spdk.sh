#!/usr/bin/env bash
# Keel's NVMe/TCP target against SPDK's nvmf_tgt, side by side, loaded by SPDK's own spdk_nvme_perf (issue 12): the
# target on core 0 — `taskset -c 0 keel start -m 0x1 --pin` (one poll-mode reactor; the whole JVM on core 0, as
# SPDK's process is on its mask) or `nvmf_tgt -m 0x1` — serving a null bdev (4 KiB blocks) as namespace 1 of
# cnode1 on 127.0.0.1, spdk_nvme_perf on core 1. Per round each target is started, warmed up (2 s of each row's
# shape of request), measured on every row and stopped; the targets alternate round by round (the VM is shared and
# noisy). Rows: 4 KiB randread at QD 1
# (with p50 latency), 32 and 128, 4 KiB randwrite at QD 128, 128 KiB read at QD 16. Prints each pair and the median
# Keel/SPDK ratio per row (for latency, Keel/SPDK of the p50: lower is better). Then, per round and target: startup
# (launch to the first RPC answer; resident memory and mapped hugepages 2 s later, idle) and interrupt mode (`keel start
# --interrupt-mode`, `nvmf_tgt --interrupt-mode`) under SPDK's bdevperf at QD1 held to 10 K IOPS by a QoS limit on its
# NVMe bdev: average latency and the target's CPU use.
# Needs SPDK's tools (../shared/peers/spdk/README.md): from $SPDK_BIN, or sourced from $SPDK_ENV (default
# /var/tmp/spdk-peer/spdk-env.sh). Without them it says so and exits 0. Not part of ./test.sh.
# Usage: keel-bench/compare-spdk.sh [rounds=3] [seconds=5] [port=4420]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=${1:-3}
secs=${2:-5}
port=${3:-4420}
# shellcheck source=keel-bench/spdk-nvmf-tools.sh
. "$root/keel-bench/spdk-nvmf-tools.sh"   # SPDK's tools, or exit 0; wait_tcp_listener
dir=/var/tmp/keel-bench/compare-spdk
rm -rf "$dir"
mkdir -p "$dir"
nqn=nqn.2016-06.io.spdk:cnode1
# shellcheck source=keel-bench/nvme-host-configs.sh
. "$root/keel-bench/nvme-host-configs.sh"   # the target's config: $dir/nvme-host-target.json
# shellcheck source=keel-bench/bench-target.sh
. "$root/keel-bench/bench-target.sh"
"$root/keel" --version >/dev/null   # build once, before the timed runs
trid="trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$port subnqn:$nqn"

start_target() { # keel|spdk [--interrupt-mode]
  rm -f "$dir/$1.sock"
  if [[ $1 == keel ]]; then
    bench_target_start "$dir/keel-target.log" taskset -c 0 "$root/keel" start -m 0x1 ${2:---pin} \
      -c "$dir/nvme-host-target.json" -r "$dir/keel.sock"
  else
    bench_target_start "$dir/spdk-target.log" \
      "$SPDK_BIN/nvmf_tgt" -m 0x1 -s 512 ${2:-} -r "$dir/spdk.sock" --json "$dir/nvme-host-target.json"
  fi
  wait_tcp_listener "$port" "the $1 target" "$dir/$1-target.log"
}
measure() { # keel|spdk QD SIZE WORKLOAD SECONDS -> "IOPS P50US"
  "$SPDK_BIN/spdk_nvme_perf" -q "$2" -o "$3" -w "$4" -t "$5" -c 0x2 -L -r "$trid" 2>&1 \
    | tee -a "$dir/perf-$1.log" | python3 -c "
import re, sys
iops = p50 = None
for line in sys.stdin:
    if re.match(r'\s*Total\s*:', line):
        iops = round(float(line.split(':')[1].split()[0]))
    m = re.match(r'\s*50\.00000%\s*:\s*([0-9.]+)us', line)
    if m and p50 is None:
        p50 = float(m.group(1))
print(iops if iops is not None else 0, p50 if p50 is not None else 0)"
}
rows=("randread 1 4096" "randread 32 4096" "randread 128 4096" "randwrite 128 4096" "read 16 131072")
declare -A got
for r in $(seq "$rounds"); do
  for t in keel spdk; do
    start_target "$t"
    # warm-up, both targets alike: each shape of request the rows make. Keel's JIT compiles, and recompiles what a
    # new shape's branches deoptimise: warmed with QD32 reads only, the QD1 row ran while C2 still worked on core 0
    # (-Xlog:jit+compilation: ~100 compilations and deoptimisations in its first 3 s; p99.99 4-8 ms)
    for warm in "randread 32" "randwrite 128" "read 16 131072" "randread 1"; do
      set -- $warm
      measure "$t" "$2" "${3:-4096}" "$1" 2 > /dev/null
    done
    for row in "${rows[@]}"; do
      set -- $row
      got["$r $t $row"]=$(measure "$t" "$2" "$3" "$1" "$secs")
    done
    bench_target_stop
  done
  for row in "${rows[@]}"; do
    echo "round $r: $row: Keel ${got["$r keel $row"]} SPDK ${got["$r spdk $row"]} (IOPS, p50 us)"
  done
done
# startup, then interrupt mode at 10 K IOPS
cat > "$dir/host-qos.json" <<JSON
{"subsystems":[{"subsystem":"bdev","config":[
 {"method":"bdev_nvme_attach_controller","params":{"name":"Nvme0","trtype":"TCP","adrfam":"IPv4",
   "traddr":"127.0.0.1","trsvcid":"$port","subnqn":"$nqn"}},
 {"method":"bdev_set_qos_limit","params":{"name":"Nvme0n1","rw_ios_per_sec":10000}}]}]}
JSON
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
started= # set by start_measured: "MS RSS_MB HUGEPAGES_MB"
start_measured() { # keel|spdk: starts it in interrupt mode; launch to the first RPC answer, resident memory 2 s later
  local t0 ms
  t0=$(date +%s%N)
  start_target "$1" --interrupt-mode
  until python3 "$root/keel-bench/rpc.py" "$dir/$1.sock" spdk_get_version > /dev/null 2>&1; do
    kill -0 "$bench_target" 2> /dev/null || { echo "the $1 target died: see $dir/$1-target.log" >&2; exit 1; }
    sleep 0.01
  done
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  sleep 2
  # resident memory, and the hugepages it maps (SPDK's buffers live there; Keel's are in its RSS)
  started="$ms $(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$bench_target/status")"
  started+=" $(awk '/_Hugetlb/ {kb += $2} END {print int(kb / 1024)}' "/proc/$bench_target/smaps_rollup")"
}
declare -A irq
for r in $(seq "$rounds"); do
  for t in keel spdk; do
    start_measured "$t"
    irq["$r $t start"]=$started
    "$SPDK_BDEVPERF" --json "$dir/host-qos.json" -m 0x2 -q 1 -o 4096 -w randread -t 2 > /dev/null 2>&1   # warm-up
    c0=$(cpu_ticks "$bench_target")
    line=$("$SPDK_BDEVPERF" --json "$dir/host-qos.json" -m 0x2 -q 1 -o 4096 -w randread -t "$secs" 2>&1 \
      | tee -a "$dir/bdevperf-irq-$t.log" | grep -a "Total" | tail -1 | sed 's/.*: *//')
    c1=$(cpu_ticks "$bench_target")
    # IOPS, average latency (us), target CPU % over the run
    irq["$r $t run"]="$(echo "$line" | awk '{print int($1), $5}') $(( (c1 - c0) * 100 / $(getconf CLK_TCK) / secs ))"
    bench_target_stop
  done
  for t in keel spdk; do
    echo "round $r: $t startup ${irq["$r $t start"]} (ms, RSS MB, hugepages MB); interrupt mode QD1 ${irq["$r $t run"]} (IOPS, avg us, target CPU %)"
  done
done
for row in "${rows[@]}"; do
  pairs=""
  for r in $(seq "$rounds"); do pairs+="${got["$r keel $row"]// /,}/${got["$r spdk $row"]// /,} "; done
  python3 -c "
import statistics
p = [[tuple(map(float, side.split(','))) for side in x.split('/')] for x in '$pairs'.split()]
k = statistics.median(a[0] for a, _ in p); s = statistics.median(b[0] for _, b in p)
ratio = statistics.median(a[0] / b[0] for a, b in p if b[0])
line = f'$row: Keel {k:,.0f} SPDK {s:,.0f} IOPS (medians); Keel/SPDK {ratio:.2f}'
if '$row'.startswith('randread 1 '):
    kl = statistics.median(a[1] for a, _ in p); sl = statistics.median(b[1] for _, b in p)
    line += f'; p50 Keel {kl:.1f} us SPDK {sl:.1f} us (Keel/SPDK {statistics.median(a[1] / b[1] for a, b in p if b[1]):.2f})'
print(line)"
done
python3 - <<PY
import statistics
rounds = $rounds
vals = {k: v.split() for k, v in [l.split("=", 1) for l in """$(for k in "${!irq[@]}"; do echo "$k=${irq[$k]}"; done)""".splitlines()]}
def med(t, kind, i):
    return statistics.median(float(vals[f"{r} {t} {kind}"][i]) for r in range(1, rounds + 1))
for t in ("keel", "spdk"):
    print(f"{t}: startup {med(t, 'start', 0):.0f} ms to RPC, idle RSS {med(t, 'start', 1):.0f} MB"
          f" + hugepages {med(t, 'start', 2):.0f} MB;"
          f" interrupt mode QD1 at {med(t, 'run', 0):,.0f} IOPS: avg {med(t, 'run', 1):.1f} us, target CPU {med(t, 'run', 2):.0f} %")
PY
