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
FAIL_MARKER=RDMA-LOOPBACK-GUEST-FAIL
source tests/e2e/lib/rdma-guest.sh

step "Soft-RoCE: modprobe rdma_rxe ib_uverbs rdma_ucm; rxe0 on eth0"
rxe_up
rdma link show rxe0/1
ls /dev/infiniband/

step "RdmaLoopbackCheck $IP:$PORT"
timeout 300 "$JAVA" --enable-native-access=ALL-UNNAMED -XX:TieredStopAtLevel=1 -Xshare:auto -cp "$CP" \
    io.keel.rdma.diag.RdmaLoopbackCheck "$IP" "$PORT"
rc=$?
step "check exited with $rc"
[ $rc = 0 ] || fail "RdmaLoopbackCheck exited with $rc"
