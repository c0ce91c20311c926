#!/bin/bash
# GUEST script (run it with ../shared/guest/guest-run.sh from the repository root): Keel's NVMe-oF RDMA host
# against the Linux kernel's nvmet-rdma target, both in the guest on Soft-RoCE (rdma_rxe on eth0, 10.0.2.15).
#
# usage: nvme-rdma-host-guest.sh [PORT]      (PORT default 4440; the RDMA target helper's tests use 4430 and up)
# Needs the packaged app (keel-app/target/keel-app-*.jar and keel-app/target/lib/, as ./keel runs it).
#
# Steps: Soft-RoCE up; nvmet (configfs, a brd RAM disk) listening on rdma 10.0.2.15:PORT; then `keel bdevperf`
# attaching it with bdev_nvme_attach_controller trtype RDMA:
#   1. verify at 4 KiB (in-capsule writes); bdev_nvme_get_controllers, _get_transport_statistics and the saved
#      config read meanwhile; the statistics show the bulk of commands zero-copy (bdevperf's buffers registered);
#   2. verify at 128 KiB (keyed SGL both ways), in interrupt mode (completions through the completion channel), the
#      statistics read again: zero-copy;
#   3. S5, target comes back: the port is taken away under I/O and given back 3 s later; the controller
#      reconnects and the run ends with no failed I/O;
#   4. S5, target gone: the port is taken away under I/O for good; the controller is deleted after
#      ctrlr_loss_timeout_sec (3 s) and bdevperf ends by itself within its bound.
# Ends with "NVME-RDMA-HOST-GUEST-OK" and exit 0; a failed check prints "NVME-RDMA-HOST-GUEST-FAIL: why", exit 1.
set -uo pipefail
PORT=${1:-4440}
IP=10.0.2.15
NQN=nqn.2024-01.io.keel:rdma-host
C=/sys/kernel/config/nvmet
BP_SOCK=/tmp/keel-bdevperf.sock
FAIL_MARKER=NVME-RDMA-HOST-GUEST-FAIL
BP= BP_LOG=
on_fail() {
    [ -n "$BP_LOG" ] && grep -v "^	at " "$BP_LOG" | tail -n 40 | sed "s|^|[$(basename "$BP_LOG")] |"
    [ -n "$BP" ] && kill -9 "$BP" 2>/dev/null
}
source tests/e2e/lib/rdma-guest.sh
source tests/e2e/lib/keel-bdevperf.sh

step "Soft-RoCE: modprobe rdma_rxe ib_uverbs rdma_ucm; rxe0 on eth0"
rxe_up

step "nvmet-rdma: $NQN on rdma $IP:$PORT (brd, 64 MiB)"
modprobe brd rd_nr=1 rd_size=$((64 * 1024)) && modprobe nvmet && modprobe nvmet-rdma || fail "modprobe nvmet-rdma"
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
mkdir -p $C/subsystems/$NQN/namespaces/1 || fail "configfs subsystem"
echo 1 > $C/subsystems/$NQN/attr_allow_any_host
echo /dev/ram0 > $C/subsystems/$NQN/namespaces/1/device_path
echo 1 > $C/subsystems/$NQN/namespaces/1/enable || fail "namespace enable"
mkdir -p $C/ports/1
echo "$IP" > $C/ports/1/addr_traddr
echo rdma > $C/ports/1/addr_trtype
echo "$PORT" > $C/ports/1/addr_trsvcid
echo ipv4 > $C/ports/1/addr_adrfam
port_up() { ln -s $C/subsystems/$NQN $C/ports/1/subsystems/$NQN || fail "linking the subsystem to the port"; }
port_down() { rm $C/ports/1/subsystems/$NQN || fail "unlinking the subsystem from the port"; }
port_up
dmesg | grep -i nvmet | tail -n 3

# long enough for the RPCs below to land while it runs (a python start alone takes seconds under TCG, and three of
# them outlasted a 20 s run on a loaded machine)
step "1. bdevperf verify 4 KiB, QD 16, 40 s (in-capsule writes)"
bdevperf /tmp/bp1.log 4k 16 40
wait_running /tmp/bp1.log
ctrlrs=$(bdevperf_rpc bdev_nvme_get_controllers) || { cat /tmp/bp1.log; fail "bdev_nvme_get_controllers"; }
echo "bdev_nvme_get_controllers: $ctrlrs"
grep -q '"trtype": *"RDMA"' <<< "$ctrlrs" || fail "get_controllers does not say trtype RDMA"
stats=$(bdevperf_rpc bdev_nvme_get_transport_statistics) || fail "bdev_nvme_get_transport_statistics"
echo "bdev_nvme_get_transport_statistics: $stats"
grep -q '"trname": *"RDMA"' <<< "$stats" && grep -q '"dev_name": *"rxe0"' <<< "$stats" \
    && grep -q '"send_doorbell_updates"' <<< "$stats" || fail "transport statistics lack RDMA's device fields"
zero_copy_bulk "$stats"
cfg=$(bdevperf_rpc framework_get_config '{"name": "bdev"}') || fail "framework_get_config bdev"
echo "saved bdev config: $cfg"
grep -q '"bdev_nvme_attach_controller"' <<< "$cfg" && grep -q '"trtype": "RDMA"' <<< "$cfg" \
    || fail "save_config does not write the attach with trtype RDMA"
kill -0 "$BP" 2>/dev/null || fail "bdevperf ended before the RPCs were answered: the checks above saw no run"
finish /tmp/bp1.log 90
cat /tmp/bp1.log
[ $RC = 0 ] || fail "bdevperf 4 KiB verify exited with $RC"
no_exceptions /tmp/bp1.log
grep -q "verify FAILED" /tmp/bp1.log && fail "4 KiB verify miscompared"

step "2. bdevperf verify 128 KiB, QD 8, 20 s (keyed SGL reads and writes), interrupt mode (completion channel)"
BP_ARGS=--interrupt-mode bdevperf /tmp/bp2.log 128k 8 20
wait_running /tmp/bp2.log
stats=$(bdevperf_rpc bdev_nvme_get_transport_statistics) || fail "bdev_nvme_get_transport_statistics"
zero_copy_bulk "$stats"
finish /tmp/bp2.log 90
cat /tmp/bp2.log
[ $RC = 0 ] || fail "bdevperf 128 KiB verify exited with $RC"
no_exceptions /tmp/bp2.log
grep -q "verify FAILED" /tmp/bp2.log && fail "128 KiB verify miscompared"

step "3. S5: the port goes away under I/O and comes back 3 s later: reconnect, no failed I/O"
bdevperf /tmp/bp3.log 4k 8 16 ', "ctrlr_loss_timeout_sec": 30, "reconnect_delay_sec": 1'
wait_running /tmp/bp3.log
sleep 3
port_down
echo "port unlinked at $(( $(date +%s) - T0 ))s"
sleep 3
port_up
echo "port linked again at $(( $(date +%s) - T0 ))s"
finish /tmp/bp3.log 120
cat /tmp/bp3.log
[ $RC = 0 ] || fail "bdevperf across the target's return exited with $RC"
no_exceptions /tmp/bp3.log
grep -q "verify FAILED" /tmp/bp3.log && fail "verify miscompared across the reconnect"
grep -q "reconnected" /tmp/bp3.log || fail "no reconnect in the log"

step "4. S5: the port goes away under I/O for good: the controller is deleted after ctrlr_loss_timeout_sec 3"
bdevperf /tmp/bp4.log 4k 8 30 ', "ctrlr_loss_timeout_sec": 3, "reconnect_delay_sec": 1'
wait_running /tmp/bp4.log
sleep 3
port_down
t_down=$(date +%s)
finish /tmp/bp4.log 60
echo "bdevperf ended $(( $(date +%s) - t_down )) s after the port went (exit $RC)"
cat /tmp/bp4.log
grep -q "not back within ctrlr_loss_timeout_sec 3" /tmp/bp4.log || fail "the controller was not deleted after its loss timeout"
grep -q "was removed during the run" /tmp/bp4.log || fail "bdevperf did not report the bdev removed"
no_exceptions /tmp/bp4.log

step "done"
echo "NVME-RDMA-HOST-GUEST-OK"
