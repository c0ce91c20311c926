#!/usr/bin/env bash
# Keel's NVMe-oF host against SPDK's, side by side: both bdevperfs (SPDK's, built by ../shared/peers/spdk/build.sh,
# and `keel bdevperf`) attach Keel's target through bdev_nvme_attach_controller and run the same cases on core 1,
# interleaved case by case (A, B, A, B: the VM is shared and noisy), while the target (`keel start`, one poll-mode
# reactor pinned to core 0) serves a 1 GiB null bdev. Prints each pair's IOPS and what each host's I/O cost the
# target: its reactor's busy time over the run divided by the I/Os (when both hosts cost it the same and it is busy
# all the time, the target sets the pace).
# Each host process is started with -z and runs two perform_tests per case, as SPDK's own test scripts drive
# bdevperf: a warm-up of WARM seconds (default 6: Keel's JIT compiles its hot path there; after 2 s the 128 KiB reads,
# with few I/Os per second, still ran partly interpreted: 0.75-0.87 of SPDK's, 0.87-1.05 after 6 s) and the measured run.
# Usage: keel-bench/compare-nvme-host-spdk.sh [rounds=3] [seconds=5] [port=14434]   (needs /var/tmp/spdk-peer)
# CASES="read 16 131072;randread 1 4096" runs only those cases (workload, QD, bytes; separated by ';').
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=${1:-3}
secs=${2:-5}
warm=${WARM:-6}
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
iops_of() { python3 -c "import json,sys; print(round(sum(j['iops'] for j in json.load(sys.stdin)['results'])))"; }
# one host, one case: started with -z, warmed up by a perform_tests of $warm s, then measured by one of $secs s;
# prints "IOPS target-busy-ns-before target-busy-ns-after"
host_case() { # spdk|keel WORKLOAD QD BYTES
  local sock="$dir/cmp-host.sock" h b0 b1 out
  rm -f "$sock"
  if [[ $1 == spdk ]]; then
    "$SPDK_BDEVPERF" --json "$dir/nvme-host.json" -m 0x2 -z -r "$sock" -q "$3" -o "$4" -w "$2" -t "$secs" \
      > "$dir/cmp-spdk.txt" 2>&1 &
  else
    taskset -c 1 "$root/keel" bdevperf -c "$dir/nvme-host.json" -T Nvme0n1 -m 0x2 --pin -z -r "$sock" -q "$3" \
      -o "$4" -w "$2" -t "$secs" > "$dir/cmp-keel.txt" 2>&1 &
  fi
  h=$!
  for _ in $(seq 150); do [[ -S $sock ]] && python3 "$root/keel-bench/rpc.py" "$sock" framework_wait_init >/dev/null 2>&1 && break; sleep 0.2; done
  python3 "$root/keel-bench/rpc.py" "$sock" perform_tests "{\"time_in_sec\": $warm}" > /dev/null \
    || echo "compare-nvme-host-spdk.sh: the $1 host's warm-up failed (see $dir/cmp-$1.txt)" >&2
  b0=$(busy)
  out=$(python3 "$root/keel-bench/rpc.py" "$sock" perform_tests "{\"time_in_sec\": $secs}" | iops_of)
  b1=$(busy)
  kill -TERM $h 2>/dev/null; wait $h 2>/dev/null
  echo "${out:-0} $b0 $b1"
}
for r in $(seq "$rounds"); do
  IFS=';' read -ra cases <<< "${CASES:-randread 1 4096;randread 32 4096;randread 128 4096;randwrite 128 4096;read 16 131072}"
  for c in "${cases[@]}"; do
    set -- $c
    read -r spdk s0 s1 <<< "$(host_case spdk "$1" "$2" "$3")"
    read -r keel k0 k1 <<< "$(host_case keel "$1" "$2" "$3")"
    echo "round $r $1 QD$2 $3 B: SPDK host $spdk IOPS ($(per_io "$s0" "$s1" "$spdk") target ns/IO)," \
      "Keel host $keel IOPS ($(per_io "$k0" "$k1" "$keel") target ns/IO), Keel/SPDK $(python3 -c "print(round($keel / max($spdk, 1), 2))")"
  done
done
