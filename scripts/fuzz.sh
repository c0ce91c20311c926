#!/usr/bin/env bash
# Runs one coverage-guided fuzzing campaign (Jazzer, libFuzzer's engine) on one fuzz test, then merges the inputs
# that reached new coverage into the test's saved corpus, src/test/resources/<package>/<Class>Inputs/<method>/,
# which ./test.sh replays as a regression test. A crash or hang is written into that directory too (crash-*,
# timeout-*), so the regression test fails until it is fixed. The generated corpus is kept in
# <module>/.cifuzz-corpus/ (not committed) and seeds the next campaign.
#
# Usage: scripts/fuzz.sh TARGET MINUTES    TARGET: a name from --list, or MODULE:CLASS#METHOD
#        scripts/fuzz.sh --list
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

targets=(
    "pdu-controller keel-nvme:io.keel.nvme.tcp.PduReaderFuzzTest#controller"
    "pdu-host keel-nvme:io.keel.nvme.tcp.PduReaderFuzzTest#host"
    "json-stream keel-core:io.keel.core.rpc.JsonStreamReaderFuzzTest#stream"
    "param-binder keel-core:io.keel.core.rpc.ParamBinderFuzzTest#bind"
    "config-file keel-core:io.keel.core.app.ConfigFileFuzzTest#load"
    "conn-stream keel-nvmf:io.keel.nvmf.tcp.TcpQpairConnectionFuzzTest#stream"
    "conn-capsule keel-nvmf:io.keel.nvmf.tcp.TcpQpairConnectionFuzzTest#capsule"
)

usage() { echo "usage: scripts/fuzz.sh TARGET MINUTES | --list" >&2; exit 2; }

if [ "${1:-}" = --list ]; then
    for t in "${targets[@]}"; do printf '%-20s %s\n' ${t}; done
    exit 0
fi
[ $# -eq 2 ] || usage
target=$1 minutes=$2
[[ "$minutes" =~ ^[0-9]+$ ]] && [ "$minutes" -gt 0 ] || usage
for t in "${targets[@]}"; do
    if [ "${t%% *}" = "$target" ]; then target=${t#* }; fi
done
[[ "$target" =~ ^([a-z-]+):([A-Za-z0-9_.]+)#([A-Za-z0-9_]+)$ ]] || { echo "fuzz: unknown target $target" >&2; usage; }
module=${BASH_REMATCH[1]} class=${BASH_REMATCH[2]} method=${BASH_REMATCH[3]}

keel_find_jdk
keel_find_maven
cd "$keel_root"
echo "fuzz: building $module (JDK $JAVA_HOME)" >&2
mvn -q -B -ntp -pl "$module" -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/fuzz-classpath.txt >&2

cd "$module"
inputs="src/test/resources/${class//.//}Inputs/$method"
corpus=".cifuzz-corpus/$class/$method"
log="target/fuzz-${class##*.}-$method.log"
mkdir -p "$inputs" "$corpus" target/fuzz-reproducers
jazzer=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED -Xmx1g
    -cp "target/test-classes:target/classes:$(cat target/fuzz-classpath.txt)"
    com.code_intelligence.jazzer.Jazzer --target_class="$class" --target_method="$method"
    --reproducer_path=target/fuzz-reproducers)

echo "fuzz: $module $class#$method for $minutes min; corpus $module/$corpus, findings into $module/$inputs" >&2
status=0
# Jackson is instrumented too, so that its parser's branches guide the JSON targets. A hang is an input over 60 s
# (the first inputs take seconds on a busy machine while classes are instrumented).
"${jazzer[@]}" --instrumentation_includes='io.keel.**:com.fasterxml.jackson.**' -max_total_time=$((minutes * 60)) \
    -timeout=60 -artifact_prefix="$inputs/" "$corpus" "$inputs" > "$log" 2>&1 || status=$?
echo "fuzz: merging new coverage into $module/$inputs" >&2
# Only Keel's edges count here, without hit counts, so the saved corpus stays a few dozen files.
"${jazzer[@]}" --instrumentation_includes='io.keel.**' -merge=1 -use_counters=0 "$inputs" "$corpus" >> "$log" 2>&1 || true

grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)|^==[0-9]+== ERROR|^== Java Exception|^MERGE-OUTER: [0-9]+ new' "$log" >&2 || true
echo "fuzz: $(ls "$inputs" | wc -l) saved inputs; full log: $module/$log" >&2
if [ "$status" -ne 0 ]; then
    echo "fuzz: FINDING (exit $status): see $module/$log; the input is saved in $module/$inputs" >&2
fi
exit "$status"
