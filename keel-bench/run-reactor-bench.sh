#!/usr/bin/env bash
# Builds keel-bench if needed and runs the reactor benchmark with JDK 25+.
# Usage: keel-bench/run-reactor-bench.sh [--seconds=2] [--warmup=0.5] [--rounds=3] [--pin]
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
cd "$keel_root"
# shellcheck disable=SC2086
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED ${JAVA_OPTS:-} \
  -cp "$jar:$here/target/lib/*" io.keel.bench.ReactorBench "$@"
