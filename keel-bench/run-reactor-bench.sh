#!/usr/bin/env bash
# Builds keel-bench if needed and runs the reactor benchmark with JDK 25+.
# Usage: keel-bench/run-reactor-bench.sh [--seconds=2] [--warmup=0.5] [--rounds=3] [--pin]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
jdk=""
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]] && (( $(java_major "$JAVA_HOME") >= 25 )); then
  jdk="$JAVA_HOME"
else
  for d in /usr/lib/jvm/*25*; do
    if [[ -x "$d/bin/java" ]]; then jdk="$d"; break; fi
  done
fi
if [[ -z "$jdk" ]]; then
  echo "no JDK 25 found: set JAVA_HOME to a JDK 25+ or install one under /usr/lib/jvm" >&2
  exit 1
fi
export JAVA_HOME="$jdk"

jar="$here/target/keel-bench-0.1.0-SNAPSHOT.jar"
if [[ ! -f "$jar" || ! -d "$here/target/lib" ]] \
    || [[ -n "$(find "$root/keel-core/src/main" "$here/src/main" "$here/pom.xml" -newer "$jar" -print -quit)" ]]; then
  (cd "$root" && mvn -q -DskipTests -pl keel-bench -am package)
fi

cd "$root"
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
  -cp "keel-bench/target/keel-bench-0.1.0-SNAPSHOT.jar:keel-bench/target/lib/*" io.keel.bench.ReactorBench "$@"
