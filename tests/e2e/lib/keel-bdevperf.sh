# Sourced by the RDMA GUEST scripts after rdma-guest.sh: Keel's NVMe-oF host as `keel bdevperf` (the packaged app,
# ./keel) attaching Nvme0 with bdev_nvme_attach_controller trtype RDMA to IP:PORT, subsystem NQN. Needs IP, PORT,
# NQN and BP_SOCK (bdevperf's RPC socket); BP_CORES: its core mask (default 0x1); BP_ARGS: more options; sets BP
# (its pid), BP_LOG (its log) and RC.
export KEEL_SKIP_BUILD=1 JAVA_OPTS="-Xmx512m -XX:TieredStopAtLevel=1 -Xshare:auto"

# bdevperf_rpc METHOD [PARAMS_JSON]: to the running bdevperf (waiting up to 30 s for its socket)
bdevperf_rpc() {
    local i
    for i in $(seq 1 150); do [ -S "$BP_SOCK" ] && break; sleep 0.2; done
    python3 keel-bench/rpc.py "$BP_SOCK" "$@" || { ls -la "$(dirname "$BP_SOCK")"; return 1; }
}

# bdevperf LOG SIZE DEPTH SECONDS [EXTRA_ATTACH_PARAMS]: verify in the background (its config beside LOG)
bdevperf() {
    local log=$1 size=$2 depth=$3 secs=$4 extra=${5:-} conf=${1%.log}.json
    cat > "$conf" <<JSON
{"subsystems": [{"subsystem": "bdev", "config": [
  {"method": "bdev_nvme_set_options", "params": {"keep_alive_timeout_ms": 5000}},
  {"method": "bdev_nvme_attach_controller", "params": {"name": "Nvme0", "trtype": "rdma", "adrfam": "IPv4",
    "traddr": "$IP", "trsvcid": "$PORT", "subnqn": "$NQN"$extra}}
]}]}
JSON
    rm -f "$BP_SOCK"
    BP_LOG=$log
    # shellcheck disable=SC2086
    ./keel bdevperf -c "$conf" -q "$depth" -o "$size" -w verify -t "$secs" -T Nvme0n1 -m "${BP_CORES:-0x1}" -r "$BP_SOCK" \
        ${BP_ARGS:-} > "$log" 2>&1 &
    BP=$!
}

# wait_running LOG: until bdevperf runs I/O (or died)
wait_running() {
    local i
    for i in $(seq 1 600); do
        grep -q "Running I/O" "$1" && return 0
        kill -0 "$BP" 2>/dev/null || { cat "$1"; fail "bdevperf ended before running I/O"; }
        sleep 0.2
    done
    cat "$1"; fail "bdevperf did not start I/O within 120 s"
}

# no_exceptions LOG: nothing threw (a watchdog's stack is no exception)
no_exceptions() {
    if grep -qE '^(java|io)\.[A-Za-z.]*(Exception|Error)' "$1"; then
        grep -B2 -A6 -E '^(java|io)\.[A-Za-z.]*(Exception|Error)' "$1" | head -n 40
        fail "an exception in $1"
    fi
}

# finish LOG BOUND_S: waits for bdevperf within BOUND_S s (killing it and failing past that), sets RC
finish() {
    local i
    for i in $(seq 1 $(( $2 * 5 ))); do
        kill -0 "$BP" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$BP" 2>/dev/null; then
        cat "$1"; kill -9 "$BP"; fail "bdevperf still running $2 s after its end (hung)"
    fi
    wait "$BP"; RC=$?
}

# zero_copy_bulk STATS_JSON: bdev_nvme_get_transport_statistics says the RDMA host moved the bulk of its commands'
# data without copying (Keel's counters beside SPDK's device fields, summed over poll groups and devices): zero-copy
# commands at least ten times the bounced ones and the in-capsule copies (those are the Connect, admin commands and
# the first I/O before bdevperf's buffers were registered). No python: its start takes seconds under TCG, and the run
# may end meanwhile.
zero_copy_bulk() {
    local z b c
    grep -q '"zero_copy_requests"' <<< "$1" || fail "transport statistics lack the zero-copy counters"
    z=$(stat_sum zero_copy_requests "$1")
    b=$(stat_sum bounced_requests "$1")
    c=$(stat_sum copied_in_capsule_requests "$1")
    echo "RDMA host: $z zero-copy commands, $b bounced, $c copied in-capsule"
    [ "$z" -gt 0 ] && [ "$z" -ge $((10 * b)) ] && [ "$z" -ge $((10 * c)) ] \
        || fail "the bulk of I/O did not take the zero-copy path ($z zero-copy, $b bounced, $c copied in-capsule)"
}

# stat_sum FIELD JSON: the sum of every numeric FIELD in JSON (rpc.py writes "k": v, keel rpc "k" : v)
stat_sum() { grep -o "\"$1\" *: *[0-9]*" <<< "$2" | awk -F': *' '{ s += $2 } END { print s + 0 }'; }
