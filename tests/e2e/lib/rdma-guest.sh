# Sourced by the RDMA GUEST scripts (from the repository root, the guest's cwd): progress lines, the failure exit
# and Soft-RoCE. Set FAIL_MARKER (the script's "...-FAIL" prefix) before sourcing; a script may define on_fail
# (called before the exit, e.g. to print its logs and kill its processes).
T0=$(date +%s)

step() { echo; echo "=== [$(( $(date +%s) - T0 ))s] $*"; }

fail() {
    echo; echo "$FAIL_MARKER: $*"
    dmesg | grep -iE 'nvme|rxe|rdma|infiniband' | tail -n 30 | sed 's/^/[dmesg] /'
    declare -F on_fail > /dev/null && on_fail
    exit 1
}

run() { echo "+ $*"; "$@" || fail "'$*' exited with status $?"; }

# rxe_up [MODULE...]: rdma_rxe, ib_uverbs and rdma_ucm (no udev loads them here) and the given modules; rxe0 on
# eth0 (10.0.2.15); back once the rdma_cm and uverbs devices are there
rxe_up() {
    local m i
    for m in rdma_rxe ib_uverbs rdma_ucm "$@"; do modprobe "$m" || fail "modprobe $m"; done
    rdma link add rxe0 type rxe netdev eth0 || fail "rdma link add rxe0"
    for i in $(seq 1 50); do [ -c /dev/infiniband/rdma_cm ] && [ -c /dev/infiniband/uverbs0 ] && break; sleep 0.1; done
}
