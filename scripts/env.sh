# Sourced by ./keel, ./test.sh and the benchmark scripts: finds JDK 25 and Maven, and knows how to build.
# JAVA_HOME is used when it is JDK 25 or newer; otherwise the first /usr/lib/jvm/*25* found.

keel_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }

keel_find_jdk() {
    if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
        local v; v=$(java_major "$JAVA_HOME")
        if [ -n "$v" ] && [ "$v" -ge 25 ] 2>/dev/null; then return 0; fi
    fi
    local d
    for d in /usr/lib/jvm/*25*; do
        if [ -x "$d/bin/java" ]; then export JAVA_HOME="$d"; return 0; fi
    done
    echo "keel: JDK 25 not found: set JAVA_HOME to a JDK 25+ or install one under /usr/lib/jvm" >&2
    return 1
}

keel_find_maven() {
    if command -v mvn >/dev/null 2>&1; then return 0; fi
    echo "keel: installing Maven (apt-get install maven)" >&2
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq maven >&2; else sudo apt-get update -qq && sudo apt-get install -y -qq maven >&2; fi
}

# Builds the launcher's jars when any source or pom is newer than them.
# KEEL_SKIP_BUILD=1 skips this (the end-to-end tests run ./keel against the jars Maven just packaged).
keel_build_if_needed() {
    [ "${KEEL_SKIP_BUILD:-}" = 1 ] && return 0
    local stamp="$keel_root/keel-app/target/lib/.built"
    if [ -f "$stamp" ] && [ -z "$(find "$keel_root" -path '*/target' -prune -o \( -path '*/src/main/*' -o -name 'pom.xml' \) -type f -newer "$stamp" -print -quit)" ]; then
        return 0
    fi
    keel_find_maven || return 1
    echo "keel: building (mvn package -DskipTests)..." >&2
    (cd "$keel_root" && mvn -q -B -DskipTests package) >&2 || { echo "keel: build failed" >&2; return 1; }
    touch "$stamp"
}

# Builds keel-bench when its sources (or keel-core's) are newer than its jar; sets bench_cp to its classpath.
keel_bench_classpath() {
    local here="$keel_root/keel-bench"
    local jar="$here/target/keel-bench-0.1.0-SNAPSHOT.jar"
    if [[ ! -f "$jar" || ! -d "$here/target/lib" ]] \
        || [[ -n "$(find "$keel_root/keel-core/src/main" "$here/src/main" "$here/pom.xml" -newer "$jar" -print -quit)" ]]; then
        keel_find_maven
        (cd "$keel_root" && mvn -q -B -DskipTests -pl keel-bench -am package)
    fi
    bench_cp="$jar:$here/target/lib/*"
}
