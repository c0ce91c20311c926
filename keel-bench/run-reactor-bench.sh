#!/usr/bin/env bash
# Builds keel-bench if needed and runs the reactor benchmark with JDK 25+.
# Usage: keel-bench/run-reactor-bench.sh [--seconds=2] [--warmup=0.5] [--rounds=3] [--pin]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
keel_find_jdk
keel_bench_classpath
cd "$keel_root"
# shellcheck disable=SC2086
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED ${JAVA_OPTS:-} \
  -cp "$bench_cp" io.keel.bench.ReactorBench "$@"
