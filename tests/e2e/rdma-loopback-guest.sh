#!/bin/bash
# GUEST script (run it with ../shared/guest/guest-run.sh from the repository root): keel-rdma's RdmaLoopbackCheck on
# Soft-RoCE. Loads rdma_rxe, ib_uverbs and rdma_ucm (there is no udev to load rdma_ucm), adds rxe0 on eth0, and runs
# the check on 10.0.2.15 with the host's JDK 25 (the guest's root is the host's).
#
# usage: rdma-loopback-guest.sh CLASSPATH [PORT]
#   CLASSPATH  keel-rdma and keel-core classes and slf4j-api, e.g. keel-rdma/target/classes:keel-core/target/classes:…/slf4j-api.jar
# Ends with the check's "RDMA-LOOPBACK-OK" and exit 0; "RDMA-LOOPBACK-GUEST-FAIL: why" or the check's own
# "RDMA-LOOPBACK-FAILED: why" and exit 1 otherwise.
set -uo pipefail
CP=${1:?classpath}; PORT=${2:-7471}
IP=10.0.2.15
JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
T0=$(date +%s)

step() { echo; echo "=== [$(( $(date +%s) - T0 ))s] $*"; }
fail() { echo; echo "RDMA-LOOPBACK-GUEST-FAIL: $*"; dmesg | grep -iE 'rxe|rdma|infiniband' | tail -n 20 | sed 's/^/[dmesg] /'; exit 1; }

step "Soft-RoCE: modprobe rdma_rxe ib_uverbs rdma_ucm; rxe0 on eth0"
modprobe rdma_rxe && modprobe ib_uverbs && modprobe rdma_ucm || fail "modprobe"
rdma link add rxe0 type rxe netdev eth0 || fail "rdma link add rxe0"
rdma link show rxe0/1
for i in $(seq 1 50); do [ -c /dev/infiniband/rdma_cm ] && [ -c /dev/infiniband/uverbs0 ] && break; sleep 0.1; done
ls /dev/infiniband/

step "RdmaLoopbackCheck $IP:$PORT"
timeout 300 "$JAVA" --enable-native-access=ALL-UNNAMED -XX:TieredStopAtLevel=1 -Xshare:auto -cp "$CP" \
    io.keel.rdma.diag.RdmaLoopbackCheck "$IP" "$PORT"
rc=$?
step "check exited with $rc"
[ $rc = 0 ] || fail "RdmaLoopbackCheck exited with $rc"
