#!/usr/bin/env bash
# What Keel's vhost-blk target spends per request on one core, with a minimal in-process driver (no socket, no second
# process): see io.keel.bench.VhostTargetCost. Steady where the cross-core benchmarks swing with the VM, so it is the
# instrument for A/B-ing the target's data path. The JVM runs on core ${CORE:-0}.
# Usage: keel-bench/run-vhost-target-cost.sh [--qd=32] [--bytes=512] [--seconds=3] [--rounds=5] [--warmup=3]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
keel_find_jdk
keel_bench_classpath
cd "$keel_root"
# shellcheck disable=SC2086
exec taskset -c "${CORE:-0}" "$JAVA_HOME/bin/java" "${keel_jvm_flags[@]}" ${JAVA_OPTS:-} -cp "$bench_cp" \
  io.keel.bench.VhostTargetCost "$@"
