#!/usr/bin/env bash
# Builds keel-bench if needed and prints the machine's memory copy bandwidth (MemcpyBandwidth) with JDK 25+.
# Usage: keel-bench/run-memcpy-bench.sh [MiB per copy=256] [seconds=3]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
keel_find_jdk
here="$keel_root/keel-bench"
jar="$here/target/keel-bench-0.1.0-SNAPSHOT.jar"
if [[ ! -f "$jar" || ! -d "$here/target/lib" ]] \
    || [[ -n "$(find "$keel_root/keel-core/src/main" "$here/src/main" "$here/pom.xml" -newer "$jar" -print -quit)" ]]; then
  keel_find_maven
  (cd "$keel_root" && mvn -q -B -DskipTests -pl keel-bench -am package)
fi
exec "$JAVA_HOME/bin/java" -cp "$jar" io.keel.bench.MemcpyBandwidth "$@"
