#!/usr/bin/env bash
# fio in a real Linux guest on a vhost-user-blk disk, one back end after another: a functional figure (the issue's
# "fio in the guest"), not a speed race — the guest runs under QEMU's TCG here (no KVM on this machine kind), so
# the guest's own CPU sets the pace. The back ends serve a 1 GiB null device (512-byte blocks) on core 0; QEMU
# (../shared/guest/guest-run.sh, two vCPUs, vhost-user-blk-pci with two queues) runs on core 1:
#   keel-interrupt  `keel start --interrupt-mode` (the reactor sleeps until a kick or a message)
#   keel-poll       `keel start -m 0x1 --pin` (one poll-mode reactor: queues polled, the guest never kicks)
#   qsd             QEMU's own qemu-storage-daemon vhost-user-blk export of a null-co node (the reference peer)
#   spdk            SPDK's `vhost -m 0x1` (poll mode), when it is built (../shared/peers/spdk/README.md)
# The guest runs keel-bench/vhost-guest-fio.sh: 4 KiB randread and randwrite at QD 1 and 32, SECONDS each.
# Usage: keel-bench/run-vhost-guest-fio.sh [seconds=10] [back ends...]   (default: all four)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
secs=${1:-10}
shift || true
backends=("$@")
[[ ${#backends[@]} -gt 0 ]] || backends=(keel-interrupt keel-poll qsd spdk)
guest="$root/../shared/guest/guest-run.sh"
[[ -x "$guest" ]] || { echo "no guest harness at $guest" >&2; exit 2; }
# shellcheck disable=SC1090
. "${SPDK_ENV:-/var/tmp/spdk-peer/spdk-env.sh}" >/dev/null 2>&1 || true
dir=$(mktemp -d /tmp/keel-vgf.XXXXXX) # short: a Unix socket path holds 107 bytes
out=/var/tmp/keel-bench/vhost-guest-fio
mkdir -p "$out"
# shellcheck source=keel-bench/bench-target.sh
. "$root/keel-bench/bench-target.sh"
vhost_null_target_json 2097152 512 > "$dir/target.json"
"$root/keel" --version >/dev/null # build once, before the timed runs
trap 'bench_target_stop; rm -rf "$dir"' EXIT
start_backend() { # NAME: serves $dir/NAME/vhost.0, or says why not (then returns 1)
  local d=$dir/$1 log=$out/$1-target.log
  mkdir -p "$d"
  case $1 in
    keel-interrupt) bench_target_start "$log" taskset -c 0 "$root/keel" start --interrupt-mode \
        -c "$dir/target.json" -r "$d.sock" -S "$d" ;;
    keel-poll) bench_target_start "$log" taskset -c 0 "$root/keel" start -m 0x1 --pin \
        -c "$dir/target.json" -r "$d.sock" -S "$d" ;;
    qsd) bench_target_start "$log" taskset -c 0 qemu-storage-daemon \
        --blockdev driver=null-co,node-name=null0,size=1073741824,read-zeroes=on \
        --export type=vhost-user-blk,id=exp0,node-name=null0,addr.type=unix,addr.path="$d/vhost.0",writable=on,num-queues=2 ;;
    spdk)
      if [[ ! -x "${SPDK_BIN:-}/vhost" ]]; then
        echo "spdk: SPDK's vhost is not built (../shared/peers/spdk/README.md): skipped"
        return 1
      fi
      bench_target_start "$log" "$SPDK_BIN/vhost" -m 0x1 -s 512 -r "$d.sock" -S "$d" --json "$dir/target.json" ;;
    *) echo "unknown back end $1" >&2; exit 2 ;;
  esac
  for _ in $(seq 150); do
    [[ -S "$d/vhost.0" ]] && return 0
    sleep 0.2
  done
  echo "$1 did not come up: see $log" >&2
  exit 1
}
declare -A rows
for b in "${backends[@]}"; do
  start_backend "$b" || continue
  log=$out/$b-guest.log
  taskset -c 1 "$guest" -t 600 -q "-chardev socket,id=vu,path=$dir/$b/vhost.0 -device vhost-user-blk-pci,chardev=vu,num-queues=2" \
    "$root/keel-bench/vhost-guest-fio.sh" "$secs" > "$log" 2>&1 || true
  bench_target_stop
  grep -q VHOST-GUEST-FIO-OK "$log" || { echo "$b: the guest's fio failed: see $log" >&2; exit 1; }
  while read -r _ rw qd iops lat; do rows["$b $rw $qd"]="$iops $lat"; done < <(grep '^ROW ' "$log")
done
printf '%-16s' "4 KiB, IOPS (mean clat us)"
for b in "${backends[@]}"; do printf ' | %-18s' "$b"; done
echo
for rw in randread randwrite; do
  for qd in 1 32; do
    printf '%-16s' "$rw QD$qd"
    for b in "${backends[@]}"; do
      set -- ${rows["$b $rw $qd"]:-- -}
      printf ' | %-18s' "$1 ($2)"
    done
    echo
  done
done
