#!/usr/bin/env bash
# What Keel's vhost-blk path costs per request, with no second core in the way: one `keel bdevperf` process on core 0
# with one poll-mode reactor runs the vhost-blk target (a controller over a null bdev), Keel's virtio-user initiator
# attached to it (bdev_virtio_attach_controller, one virtqueue of 512) and the bdevperf job over that bdev. Nothing
# crosses cores, so the figure does not swing with where the VM's two vCPUs run (the cross-core benchmarks do, 2x);
# it is the whole stack's cost (initiator, its data copy, bdevperf and target), so compare builds with it, not
# targets. A profile splits it: the target is what runs under VhostUserConnection's and the null bdev's pollers.
# 4 KiB randread at QD 1, 32 and 128 for SECONDS each (10 s or more: the JIT settles in the first seconds).
# A/B of builds: KEEL_ROOTS="name:dir ..." (each dir a tree with a built launcher; default this tree), interleaved.
# Usage: keel-bench/run-vhost-one-core-bench.sh [rounds=3] [seconds=10]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=${1:-3}
secs=${2:-10}
dir=/var/tmp/keel-bench/vhost-one-core
mkdir -p "$dir"
cat > "$dir/config.json" <<JSON
{"subsystems":[
 {"subsystem":"bdev","config":[
  {"method":"bdev_null_create","params":{"name":"Null0","num_blocks":2097152,"block_size":512}}]},
 {"subsystem":"vhost_blk","config":[
  {"method":"vhost_create_blk_controller","params":{"ctrlr":"vhost.self","dev_name":"Null0","cpumask":"0x1"}}]},
 {"subsystem":"bdev","config":[
  {"method":"bdev_virtio_attach_controller","params":{"name":"V","trtype":"user","traddr":"$dir/vhost.self",
   "dev_type":"blk","vq_count":1,"vq_size":512}}]}]}
JSON
roots=${KEEL_ROOTS:-this:$root}
for spec in $roots; do "${spec#*:}/keel" --version >/dev/null; done # build once, before the timed runs
cd "$dir"   # vhost_create_blk_controller's socket lands in the working directory
for r in $(seq "$rounds"); do
  for spec in $roots; do
    line="${spec%%:*}:"
    for qd in 1 32 128; do
      rm -f "$dir/vhost.self"
      iops=$(taskset -c 0 "${spec#*:}/keel" bdevperf -m 0x1 --pin -c "$dir/config.json" -T V -q "$qd" -o 4096 \
          -w randread -t "$secs" 2>&1 | awk '/^ *Total *:/ {print int($3)}')
      line="$line QD$qd ${iops:-failed}"
    done
    echo "$line"
  done
done
