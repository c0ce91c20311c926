#!/usr/bin/env bash
# Where the NVMe/TCP target's time goes, Keel's and SPDK's side by side (issue 12): each target alone on core 0 (as
# compare-spdk.sh starts them: null bdev, one poll-mode reactor), loaded by spdk_nvme_perf on core 1 with 4 KiB
# randread at QD1 and 4 KiB randwrite at QD128. For each pair: IOPS, the target's CPU per I/O (user and system, from
# /proc/PID/stat), its system calls per I/O by kind (perf's syscall tracepoints, counted in a load of their own: they
# slow every call), and a `perf record -e cpu-clock` profile split into kernel and user time with the top symbols (Keel's JIT-compiled methods named through
# `jcmd PID Compiler.perfmap`). Needs SPDK's tools (as compare-spdk.sh) and `perf` run as root; without them it says
# so and exits 0. Not part of ./test.sh. Profiling costs both targets some throughput: read the IOPS here as a
# sanity check, the ratios from compare-spdk.sh.
# Usage: keel-bench/profile-spdk.sh [seconds=5] [port=4420]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
secs=${1:-5}
port=${2:-4420}
# shellcheck source=keel-bench/spdk-nvmf-tools.sh
. "$root/keel-bench/spdk-nvmf-tools.sh"   # SPDK's tools, or exit 0; wait_tcp_listener
if ! perf stat -e raw_syscalls:sys_enter -- true > /dev/null 2>&1; then
  echo "profile-spdk.sh: perf with syscall tracepoints is not usable here (install linux-perf, run as root): nothing to profile"
  exit 0
fi
# shellcheck source=scripts/env.sh
. "$root/scripts/env.sh"
keel_find_jdk   # jcmd names Keel's JIT code
dir=/var/tmp/keel-bench/profile-spdk
rm -rf "$dir"
mkdir -p "$dir"
nqn=nqn.2016-06.io.spdk:cnode1
# shellcheck source=keel-bench/nvme-host-configs.sh
. "$root/keel-bench/nvme-host-configs.sh"   # the target's config: $dir/nvme-host-target.json
# shellcheck source=keel-bench/bench-target.sh
. "$root/keel-bench/bench-target.sh"
"$root/keel" --version > /dev/null   # build once, before the timed runs
trid="trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$port subnqn:$nqn"
calls=(read readv recvfrom recvmsg write writev sendto sendmsg epoll_wait epoll_pwait epoll_pwait2 epoll_ctl futex)

start_target() { # keel|spdk: starts it; sets target_pid to the process to watch
  if [[ $1 == keel ]]; then
    bench_target_start "$dir/keel-target.log" taskset -c 0 "$root/keel" start -m 0x1 --pin \
      -c "$dir/nvme-host-target.json" -r "$dir/keel.sock"
  else
    bench_target_start "$dir/spdk-target.log" \
      "$SPDK_BIN/nvmf_tgt" -m 0x1 -s 512 -r "$dir/spdk.sock" --json "$dir/nvme-host-target.json"
  fi
  target_pid=$bench_target # ./keel execs the JVM, so this is the JVM itself
  wait_tcp_listener "$port" "the $1 target" "$dir/$1-target.log"
}
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }

load() { # OUT QD WORKLOAD: spdk_nvme_perf for $secs + 2 seconds, in the background (pid in $load)
  "$SPDK_BIN/spdk_nvme_perf" -q "$2" -o 4096 -w "$3" -t $((secs + 2)) -c 0x2 -r "$trid" > "$1" 2>&1 &
  load=$!
  sleep 1
}
profile() { # keel|spdk NAME QD WORKLOAD: two loads, the target watched in the middle $secs seconds of each
  local out="$dir/$1-$2" events t0
  # system calls counted apart from the profile: their tracepoints slow every call down
  events=raw_syscalls:sys_enter
  for c in "${calls[@]}"; do events+=",syscalls:sys_enter_$c"; done
  load "$out.stat-load.txt" "$3" "$4"
  perf stat -x, -e "$events" -p "$target_pid" -o "$out.syscalls.csv" -- sleep "$secs" > /dev/null 2>&1 || true
  wait "$load"
  load "$out.perf.txt" "$3" "$4"
  t0=$(cpu_ticks "$target_pid")
  perf record -q -e cpu-clock -F 2000 -p "$target_pid" -o "$out.data" -- sleep "$secs" > /dev/null 2>&1
  echo "$t0 $(cpu_ticks "$target_pid")" > "$out.ticks"
  wait "$load"
}

for t in keel spdk; do
  start_target "$t"
  "$SPDK_BIN/spdk_nvme_perf" -q 32 -o 4096 -w randread -t 2 -c 0x2 -r "$trid" > /dev/null 2>&1   # warm-up
  profile "$t" qd1-randread 1 randread
  profile "$t" qd128-randwrite 128 randwrite
  if [[ $t == keel ]]; then
    "$JAVA_HOME/bin/jcmd" "$target_pid" Compiler.perfmap > /dev/null 2>&1 || true   # names for the JIT's code
  fi
  for c in qd1-randread qd128-randwrite; do
    perf report -i "$dir/$t-$c.data" --no-children --sort sym --stdio 2> /dev/null | grep -v '^#' | grep '%' \
      | head -12 > "$dir/$t-$c.top.txt" || true
    perf report -i "$dir/$t-$c.data" --no-children --sort dso --stdio 2> /dev/null | grep -v '^#' | grep '%' \
      > "$dir/$t-$c.dso.txt" || true
  done
  bench_target_stop
done

python3 - "$dir" "$secs" "$(getconf CLK_TCK)" "${calls[@]}" <<'PY'
import re, sys
d, secs, hz, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
def iops(path):
    for line in open(path, errors="replace"):
        if re.match(r"\s*Total\s*:", line):
            return float(line.split(":")[1].split()[0])
    return 0.0
for case in ("qd1-randread", "qd128-randwrite"):
    print(f"== {case} (4 KiB, spdk_nvme_perf on core 1; per I/O over {secs} s of the run)")
    for t in ("keel", "spdk"):
        p = f"{d}/{t}-{case}"
        rate = iops(p + ".perf.txt")
        ios = rate * secs or 1
        stat_ios = iops(p + ".stat-load.txt") * secs or 1
        u0, s0, u1, s1 = map(int, open(p + ".ticks").read().split())
        user, system = (u1 - u0) / hz / ios * 1e9, (s1 - s0) / hz / ios * 1e9
        counts = {}
        for line in open(p + ".syscalls.csv"):
            f = line.strip().split(",")
            if len(f) > 2 and f[0].replace(".", "").isdigit():
                counts[f[2].split(":")[-1].replace("sys_enter_", "")] = int(float(f[0]))
        total = counts.pop("sys_enter", 0)
        mix = ", ".join(f"{k} {v / stat_ios:.2f}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]) if v / stat_ios >= 0.005)
        kernel = sum(float(l.split("%")[0]) for l in open(p + ".dso.txt") if "[kernel" in l)
        print(f"{t}: {rate:,.0f} IOPS; CPU {user + system:,.0f} ns/IO (user {user:,.0f}, system {system:,.0f});"
              f" kernel {kernel:.0f}% of samples; syscalls {total / stat_ios:.2f}/IO: {mix}")
        for line in open(p + ".top.txt"):
            print("   ", line.rstrip())
PY
