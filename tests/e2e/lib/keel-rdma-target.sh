# Sourced by the RDMA GUEST scripts after rdma-guest.sh: Keel's NVMe-oF target (keel-app's main, interrupt mode,
# one core) serving bdev Disk0 over RDMA on IP:PORT as subsystem NQN: a 64 MiB malloc bdev, or TARGET_BDEV's create
# call (a JSON config entry naming Disk0: a bdev that outlives the process, for a restart). Needs CP (keel-app's jar
# and its lib/*), JAVA, WORK (a scratch folder), SOCK (its RPC socket), IP, PORT and NQN; sets KEEL_PID.

# target_rpc METHOD [ARGS]: keel rpc to the target (a JVM start: seconds under TCG)
target_rpc() { timeout 60 "$JAVA" -XX:TieredStopAtLevel=1 -cp "$CP" io.keel.app.Main rpc -s "$SOCK" "$@"; }

# target_config TRANSPORT_PARAMS: the JSON config (TRANSPORT_PARAMS: more nvmf_create_transport params, ", ..." form)
target_config() {
    local bdev=${TARGET_BDEV:-'{"method": "bdev_malloc_create", "params": {"name": "Disk0", "num_blocks": 131072, "block_size": 512}}'}
    cat <<JSON
{"subsystems": [
  {"subsystem": "bdev", "config": [
    $bdev
  ]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "RDMA"$1}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$NQN", "serial_number": "KEELRDMA0001",
      "allow_any_host": true}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$NQN", "namespace": {"bdev_name": "Disk0"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$NQN", "listen_address":
      {"trtype": "RDMA", "adrfam": "IPv4", "traddr": "$IP", "trsvcid": "$PORT"}}}
  ]}
]}
JSON
}

# start_keel NAME TRANSPORT_PARAMS: the target in the background (log $WORK/keel-NAME.log), back once it listens
start_keel() {
    local log=$WORK/keel-$1.log i
    target_config "$2" > "$WORK/config-$1.json"
    rm -f "$SOCK"
    "$JAVA" --enable-native-access=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED -XX:TieredStopAtLevel=1 \
        -Xshare:auto ${TARGET_JAVA_OPTS:-} -cp "$CP" io.keel.app.Main start -c "$WORK/config-$1.json" -r "$SOCK" \
        -m 0x1 --interrupt-mode > "$log" 2>&1 &
    KEEL_PID=$!
    for i in $(seq 1 300); do
        kill -0 "$KEEL_PID" 2>/dev/null || fail "keel ($1) exited during start"
        [ -S "$SOCK" ] && target_rpc framework_wait_init > /dev/null 2>&1 && break
        sleep 0.5
    done
    [ -S "$SOCK" ] || fail "keel ($1) did not open its RPC socket"
    grep -q "listening on $IP port $PORT" "$log" || { sleep 2; grep -q "listening on $IP port $PORT" "$log"; } \
        || fail "keel ($1) is not listening on $IP:$PORT over RDMA"
    echo "keel ($1) up, pid $KEEL_PID"
}

# target_on_fail: for a script's on_fail: the target logs' tails, and the running target killed
target_on_fail() {
    local l
    for l in "$WORK"/keel-*.log; do [ -f "$l" ] && tail -n 60 "$l" | sed "s|^|[$(basename "$l")] |"; done
    [ -n "$KEEL_PID" ] && kill -9 "$KEEL_PID" 2>/dev/null
}

# stop_keel: SIGTERM, and the target must be gone within 30 s with status 0 (or 143)
stop_keel() {
    local i rc
    kill -TERM "$KEEL_PID"
    for i in $(seq 1 60); do kill -0 "$KEEL_PID" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$KEEL_PID" 2>/dev/null && fail "keel did not stop within 30 s of SIGTERM"
    wait "$KEEL_PID"; rc=$?
    [ $rc = 0 ] || [ $rc = 143 ] || fail "keel exited with status $rc"
    grep -E 'ERROR|Exception' "$WORK"/keel-*.log | grep -v 'INFO' | head -5
    KEEL_PID=
}
