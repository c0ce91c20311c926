#!/usr/bin/env bash
# The NVMe-oF/TCP benchmarks of docs/benchmarks.md: the target (`keel start`, one poll-mode reactor pinned to
# core 0) serving a null and a malloc namespace over loopback, loaded by `keel perf` on core 1: 4 KiB randread at
# QD 1, 32 and 128, 4 KiB randwrite at QD 128, 128 KiB sequential read at QD 16. Cases are interleaved round by
# round (the VM is shared and noisy); medians of IOPS and latency are printed. While each run is in steady state
# the script samples the poll group's busy time per I/O (its work, not its idle polling), the target reactor's
# allocated bytes and the target's completed I/O count (less what the
# sampling RPCs themselves allocate there), and prints the target's bytes allocated per I/O.
# Usage: keel-bench/run-nvmf-bench.sh [rounds=3] [seconds=5] [port=4420]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=${1:-3}
secs=${2:-5}
port=${3:-4420}
dir=/var/tmp/keel-bench
mkdir -p "$dir"
sock="$dir/nvmf-bench.sock"
nqn=nqn.2016-06.io.spdk:cnode1
cat > "$dir/nvmf.json" <<JSON
{"subsystems":[
 {"subsystem":"bdev","config":[
  {"method":"bdev_null_create","params":{"name":"Null0","num_blocks":262144,"block_size":4096}},
  {"method":"bdev_malloc_create","params":{"name":"Malloc0","num_blocks":65536,"block_size":4096}}]},
 {"subsystem":"nvmf","config":[
  {"method":"nvmf_create_transport","params":{"trtype":"TCP"}},
  {"method":"nvmf_create_subsystem","params":{"nqn":"$nqn","allow_any_host":true}},
  {"method":"nvmf_subsystem_add_ns","params":{"nqn":"$nqn","namespace":{"bdev_name":"Null0","nsid":1}}},
  {"method":"nvmf_subsystem_add_ns","params":{"nqn":"$nqn","namespace":{"bdev_name":"Malloc0","nsid":2}}},
  {"method":"nvmf_subsystem_add_listener","params":{"nqn":"$nqn","listen_address":
    {"trtype":"TCP","adrfam":"IPv4","traddr":"127.0.0.1","trsvcid":"$port"}}}]}]}
JSON
"$root/keel" --version >/dev/null   # build once, before the timed runs
"$root/keel" start -m 0x1 --pin -c "$dir/nvmf.json" -r "$sock" > "$dir/nvmf-target.log" 2>&1 &
target=$!
trap 'kill $target 2>/dev/null; wait $target 2>/dev/null || true' EXIT
for i in $(seq 100); do
  "$root/keel" rpc -s "$sock" framework_wait_init >/dev/null 2>&1 && break
  sleep 0.2
done
python3 - "$root" "$sock" "$port" "$nqn" "$rounds" "$secs" <<'PY'
import json, re, socket, statistics, subprocess, sys, time
root, sock, port, nqn, rounds, secs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
trid = f"trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:{port} subnqn:{nqn}"
cases = [(ns, w, q, o) for ns in (1, 2) for (w, q, o) in
         (("randread", 1, 4096), ("randread", 32, 4096), ("randread", 128, 4096), ("randwrite", 128, 4096),
          ("read", 16, 131072))]

def rpc(method):
    # straight over the socket: a `keel rpc` process would take most of a second to start
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(sock)
        s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method}).encode())
        dec, buf = json.JSONDecoder(), ""
        while True:
            buf += s.recv(65536).decode()
            try:
                return dec.raw_decode(buf.lstrip())[0]["result"]
            except ValueError:
                continue

def sample():
    alloc = sum(r["keel_allocated_bytes"] for r in rpc("framework_get_reactors")["reactors"])
    done = sum(g["completed_nvme_io"] for g in rpc("nvmf_get_stats")["poll_groups"])
    return alloc, done

def busy():
    """Busy nanoseconds of the poll group threads (their work, not their idle polling)."""
    return sum(t["busy"] for t in rpc("thread_get_stats")["threads"] if t["name"].startswith("nvmf_tgt_poll_group"))

results = {c: [] for c in cases}
for r in range(rounds):
    for c in cases:
        ns, w, q, o = c
        p = subprocess.Popen(["taskset", "-c", "1", f"{root}/keel", "perf", "-r", trid, "-n", str(ns), "-q", str(q),
                              "-o", str(o), "-w", w, "-t", str(secs)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        time.sleep(2.0)
        a0, d0 = sample()
        b, db = sample()  # what one sample itself allocates on the reactor (the RPCs run there) ...
        busy0 = busy()
        time.sleep(max(0.5, secs - 3.0))
        busy1 = busy()
        a1, d1 = sample()
        a1 -= b - a0      # ... is taken off the steady-state figure
        d0 = db
        out = p.communicate()[0]
        m = re.search(r"^Total\s*:\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", out, re.M)
        if not m or p.returncode != 0:
            print(f"case {c} failed:\n{out}", file=sys.stderr)
            continue
        iops, mibs, avg, p50, p99 = map(float, m.groups())
        per_io = (a1 - a0) / max(1, d1 - d0)
        cpu_us = (busy1 - busy0) / 1000 / max(1, d1 - d0)
        results[c].append((iops, mibs, avg, p50, p99, per_io, cpu_us))
        print(f"round {r + 1} ns{ns} {w} q{q} {o // 1024}K: {iops:,.0f} IOPS {mibs:,.1f} MiB/s avg {avg:.1f} "
              f"p50 {p50:.1f} p99 {p99:.1f} us, target {per_io:.3f} B/IO, {cpu_us:.2f} us busy/IO", flush=True)

print()
print("| namespace | workload | QD | IOPS (median) | MiB/s | avg us | p50 us | p99 us | target busy us/IO | target B/IO (max) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for c, rs in results.items():
    if not rs:
        continue
    ns, w, q, o = c
    med = lambda i: statistics.median(x[i] for x in rs)
    name = "Null0" if ns == 1 else "Malloc0"
    print(f"| {name} | {w} {o // 1024}K | {q} | {med(0):,.0f} (min {min(x[0] for x in rs):,.0f}, max "
          f"{max(x[0] for x in rs):,.0f}) | {med(1):,.1f} | {med(2):.1f} | {med(3):.1f} | {med(4):.1f} | "
          f"{med(6):.2f} | {max(x[5] for x in rs):.3f} |")
PY
