#!/bin/bash
# GUEST script: the Linux kernel NVMe/TCP target (nvmet) on 0.0.0.0:4420 for a test on the host, which
# reaches it through guest-run.sh --hostfwd. SYNC is a host folder shared with -w:
#   the guest touches SYNC/ready once the subsystem listens, then serves commands until SYNC/done appears
#   or LIFE_S seconds have passed. The host writes SYNC/cmd-N (N = 1, 2, ... in order; write then rename),
#   the guest runs it and answers SYNC/ack-N: "ok" or "error: ..." (details in the guest output).
#   Commands: "ns-add NSID" (a memory-backed null_blk device of SIZE_MB MiB, 512 B blocks),
#             "ns-remove NSID".
# Namespace 1 is a brd RAM disk of SIZE_MB MiB (../shared/guest/tests/nvmet-target.sh).
# usage: nvmet-guest-target.sh SYNC NQN SIZE_MB LIFE_S
set -euo pipefail
SYNC=$1 NQN=$2 MB=$3 LIFE_S=$4
S=/sys/kernel/config/nvmet/subsystems/$NQN
NULLB=/sys/kernel/config/nullb

bash "$GUEST_HARNESS_DIR/tests/nvmet-target.sh" 0.0.0.0 4420 "$NQN" "$MB"
modprobe null_blk nr_devices=0 # no default device; extra namespaces are made through configfs
echo "nvmet-guest: $(uname -r), ready"
touch "$SYNC/ready"

# each step chained with &&: set -e does not act inside a function called from a condition
# null_blk in this kernel (6.1) names the disk after its configfs folder: /dev/nvmet-nsN
ns_add() {
    local d=$NULLB/nvmet-ns$1
    mkdir "$d" &&
        echo "$MB" > "$d/size" &&
        echo 1 > "$d/memory_backed" &&
        echo 1 > "$d/power" &&
        mkdir "$S/namespaces/$1" &&
        echo "/dev/nvmet-ns$1" > "$S/namespaces/$1/device_path" &&
        echo 1 > "$S/namespaces/$1/enable" &&
        echo "nvmet-guest: namespace $1 on /dev/nvmet-ns$1 (${MB} MiB)"
}

ns_remove() {
    echo 0 > "$S/namespaces/$1/enable" &&
        rmdir "$S/namespaces/$1" &&
        echo 0 > "$NULLB/nvmet-ns$1/power" &&
        rmdir "$NULLB/nvmet-ns$1" &&
        echo "nvmet-guest: namespace $1 removed"
}

n=1
while [ ! -e "$SYNC/done" ] && [ "$SECONDS" -lt "$LIFE_S" ]; do
    if [ ! -e "$SYNC/cmd-$n" ]; then
        sleep 0.2
        continue
    fi
    read -r op nsid < "$SYNC/cmd-$n" || true # a last line without a newline still counts
    echo "nvmet-guest: cmd-$n: $op $nsid"
    if ! [[ $nsid =~ ^[0-9]+$ ]]; then
        r="error: bad NSID '$nsid'"
    elif [ "$op" = ns-add ]; then
        ns_add "$nsid" && r=ok || r="error: ns-add $nsid failed"
    elif [ "$op" = ns-remove ]; then
        ns_remove "$nsid" && r=ok || r="error: ns-remove $nsid failed"
    else
        r="error: unknown command '$op'"
    fi
    echo "$r" > "$SYNC/.ack-$n" && mv "$SYNC/.ack-$n" "$SYNC/ack-$n"
    echo "nvmet-guest: ack-$n: $r"
    n=$((n + 1))
done
echo "nvmet-guest: done after ${SECONDS}s"
