#!/usr/bin/env bash
# Builds keel-bench if needed and prints the machine's memory copy bandwidth (MemcpyBandwidth) with JDK 25+.
# Usage: keel-bench/run-memcpy-bench.sh [MiB per copy=256] [seconds=3]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
keel_find_jdk
keel_bench_classpath
exec "$JAVA_HOME/bin/java" -cp "$bench_cp" io.keel.bench.MemcpyBandwidth "$@"
