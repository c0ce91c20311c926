# Sourced by ./keel, ./test.sh and the benchmark scripts: finds JDK 25 and Maven, and knows how to build.
# JAVA_HOME is used when it is JDK 25 or newer; otherwise the first /usr/lib/jvm/*25* found.

keel_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# A JDK's major version: from its release file (starting a JVM to ask costs ~0.1 s of every `keel start`), else asked.
java_major() {
    local v
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null)
    if [ -z "$v" ]; then
        v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    fi
    echo "$v"
}

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
    keel_train_aot_cache
}

# What every JVM the launcher starts gets: FFM's native access, and the NIO internals the reactors watch fds through.
keel_jvm_flags=(--enable-native-access=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED)
keel_app_classpath="$keel_root/keel-app/target/keel-app-0.1.0-SNAPSHOT.jar:$keel_root/keel-app/target/lib/*"
# JDK 25's AOT cache for the launcher: the classes a target start loads, already parsed and linked, so `keel start`
# answers its first RPC sooner. Made after each build by starting a target (malloc and null bdevs, an NVMe/TCP
# subsystem and listener) in interrupt mode and stopping it; used only while newer than the jars it was made from (the
# JVM would refuse it anyway: its messages are turned off). Classes only, no method profiles (-AOTRecordTraining): the
# training start's profiles, of code that ran a few times at startup, led C2 to compile the I/O paths a third slower
# (vhost-blk on one core: 1.3 M against 2.0 M IOPS at QD32) and gave startup nothing (both ~1.2 s, 1.6 s with no cache).
keel_aot_cache="$keel_root/keel-app/target/keel.aot"

keel_aot_flags() { # prints the flags that use the cache, when it matches the jars
    if [ -f "$keel_aot_cache" ] && [ "$keel_aot_cache" -nt "$keel_root/keel-app/target/keel-app-0.1.0-SNAPSHOT.jar" ]; then
        echo "-XX:AOTCache=$keel_aot_cache -Xlog:aot=off -Xlog:cds=off"
    fi
}

keel_train_aot_cache() { # best effort: on any failure the launcher simply runs without a cache
    local dir="$keel_root/keel-app/target/aot-training" pid i port=$((30000 + $$ % 20000))
    rm -rf "$dir" "$keel_aot_cache"
    mkdir -p "$dir"
    cat > "$dir/config.json" <<JSON
{"subsystems": [
 {"subsystem": "bdev", "config": [
  {"method": "bdev_malloc_create", "params": {"name": "Malloc0", "num_blocks": 8192, "block_size": 4096}},
  {"method": "bdev_null_create", "params": {"name": "Null0", "num_blocks": 8192, "block_size": 4096}}]},
 {"subsystem": "nvmf", "config": [
  {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
  {"method": "nvmf_create_subsystem", "params": {"nqn": "nqn.2016-06.io.keel:aot-training", "allow_any_host": true}},
  {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "nqn.2016-06.io.keel:aot-training",
    "namespace": {"bdev_name": "Malloc0"}}},
  {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "nqn.2016-06.io.keel:aot-training",
    "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$port"}}}]}]}
JSON
    echo "keel: making the AOT cache (a training start)..." >&2
    "$JAVA_HOME/bin/java" "${keel_jvm_flags[@]}" -XX:+UnlockDiagnosticVMOptions -XX:-AOTRecordTraining \
        -XX:AOTCacheOutput="$keel_aot_cache" -cp "$keel_app_classpath" \
        io.keel.app.Main start --interrupt-mode -c "$dir/config.json" -r "$dir/rpc.sock" > "$dir/log" 2>&1 &
    pid=$!
    for i in $(seq 600); do
        grep -q "Keel is running" "$dir/log" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ ! -f "$keel_aot_cache" ]; then
        echo "keel: no AOT cache made (see $dir/log); starting without one" >&2
    fi
}

# Builds keel-bench when its sources (or keel-core's) are newer than its jar; sets bench_cp to its classpath.
keel_bench_classpath() {
    local here="$keel_root/keel-bench"
    local jar="$here/target/keel-bench-0.1.0-SNAPSHOT.jar"
    if [[ ! -f "$jar" || ! -d "$here/target/lib" ]] \
        || [[ -n "$(find "$keel_root"/keel-{core,bdev,vhost}/src/main "$here/src/main" "$here/pom.xml" -newer "$jar" -print -quit)" ]]; then
        keel_find_maven
        (cd "$keel_root" && mvn -q -B -DskipTests -pl keel-bench -am package)
    fi
    bench_cp="$jar:$here/target/lib/*"
}
