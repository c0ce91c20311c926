#!/bin/bash
# HOST script: run nvme-tcp-guest.sh against the Linux kernel's own NVMe/TCP target (nvmet), to check
# the guest script itself. nvmet runs in a second guest, forwarded to the host's 127.0.0.1:PORT; the
# initiator guest dials 10.0.2.2:PORT. Same two subsystems as NvmeTcpGuestIT gives Keel: one open
# to any host, one that allows only one host NQN.
# usage: tests/e2e/nvmet-reference.sh [PORT] [GUEST_DIR]   (GUEST_DIR default: ../shared/guest)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PORT=${1:-14420}
GUEST=${2:-$ROOT/../shared/guest}
NQN=nqn.2024-11.io.keel:e2e-open
RNQN=nqn.2024-11.io.keel:e2e-restricted
RHOST=nqn.2024-11.io.keel:e2e-allowed-host
MB=64 RMB=16
SYNC=$(mktemp -d /tmp/nvmet-ref.XXXXXX)
cat > "$SYNC/target.sh" <<EOF
set -e
modprobe brd rd_nr=2 rd_size=$((MB * 1024))
modprobe nvmet; modprobe nvmet-tcp; modprobe loop
C=/sys/kernel/config/nvmet
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
# /dev/ram1 is cut to $RMB MiB through a partition-less loop device
dd if=/dev/zero of=/tmp/r.img bs=1M count=0 seek=$RMB status=none
R=\$(losetup -f --show /tmp/r.img)
mk() { # nqn device
    mkdir -p \$C/subsystems/\$1/namespaces/1
    echo \$2 > \$C/subsystems/\$1/namespaces/1/device_path
    echo 1 > \$C/subsystems/\$1/namespaces/1/enable
}
mk $NQN /dev/ram0
echo 1 > \$C/subsystems/$NQN/attr_allow_any_host
mk $RNQN \$R
echo 0 > \$C/subsystems/$RNQN/attr_allow_any_host
mkdir -p \$C/hosts/$RHOST
ln -s \$C/hosts/$RHOST \$C/subsystems/$RNQN/allowed_hosts/$RHOST
mkdir -p \$C/ports/1
echo 0.0.0.0 > \$C/ports/1/addr_traddr; echo tcp > \$C/ports/1/addr_trtype
echo 4420 > \$C/ports/1/addr_trsvcid; echo ipv4 > \$C/ports/1/addr_adrfam
ln -s \$C/subsystems/$NQN \$C/ports/1/subsystems/$NQN
ln -s \$C/subsystems/$RNQN \$C/ports/1/subsystems/$RNQN
echo "nvmet ready"
touch $SYNC/ready
for i in \$(seq 1 1200); do [ -e $SYNC/done ] && break; sleep 0.5; done
EOF
"$GUEST/guest-run.sh" -t 900 -w "$SYNC" --hostfwd "tcp:127.0.0.1:$PORT-:4420" "$SYNC/target.sh" > "$SYNC/target.log" 2>&1 &
TPID=$!
for i in $(seq 1 240); do [ -e "$SYNC/ready" ] || ! kill -0 $TPID 2>/dev/null && break; sleep 0.5; done
[ -e "$SYNC/ready" ] || { echo "target guest did not come up"; cat "$SYNC/target.log"; kill $TPID 2>/dev/null; exit 1; }
rc=0
"$GUEST/guest-run.sh" -t 600 -e DISC_PORT=4420 "$ROOT/tests/e2e/nvme-tcp-guest.sh" 10.0.2.2 "$PORT" "$NQN" $((MB << 20)) \
    "$RNQN" "$RHOST" $((RMB << 20)) || rc=$?
touch "$SYNC/done"
wait $TPID || true
sed 's/^/[target] /' "$SYNC/target.log"
rm -rf "$SYNC"
echo "initiator rc=$rc"; exit $rc
