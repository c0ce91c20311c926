#!/usr/bin/env bash
# Runs `keel perf` against the Linux kernel's NVMe/TCP target (nvmet, brd RAM disk) in a QEMU guest whose
# port 4420 is forwarded to the host's 127.0.0.1:PORT (the pattern of ../shared/guest/tests/host-nvme-two-guests.sh).
# usage: scripts/perf-kernel-target.sh PORT [keel perf options other than -r ...]
# e.g.   scripts/perf-kernel-target.sh 14421 -q 16 -o 4096 -w randrw -M 50 -t 5 --check
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
guest=${GUEST_DIR:-/work/shared/guest}
port=${1:?usage: $0 PORT [perf options]}
shift
nqn=nqn.2024-01.test:keel-perf
sync=$(mktemp -d /tmp/keel-perf-sync.XXXXXX)
cat > "$sync/target.sh" <<EOF2
set -e
bash \$GUEST_HARNESS_DIR/tests/nvmet-target.sh 0.0.0.0 4420 $nqn 128
touch $sync/ready
for i in \$(seq 1 1200); do [ -e $sync/done ] && break; sleep 0.5; done
EOF2
"$guest/guest-run.sh" -t 900 -w "$sync" --hostfwd "tcp:127.0.0.1:$port-:4420" "$sync/target.sh" > "$sync/target.log" 2>&1 &
tpid=$!
trap 'touch "$sync/done"; wait $tpid || true; rm -rf "$sync"' EXIT
for _ in $(seq 1 480); do [ -e "$sync/ready" ] && break; sleep 0.5; done
[ -e "$sync/ready" ] || { echo "target guest did not come up"; cat "$sync/target.log"; exit 1; }
echo "kernel nvmet ready: 127.0.0.1:$port $nqn"
"$root/keel" perf -r "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$port subnqn:$nqn" "$@"
