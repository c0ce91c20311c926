#!/usr/bin/env python3
"""Connects N NVMe/TCP I/O queues (plus their admin queues) to a Keel target and holds them, or churns
connections, then prints the target's resident and native memory. Measures docs/reliability.md's table.

  scripts/queue-memory.py PID PORT SUBNQN hold N      # N I/O queues connected at once (125 per controller)
  scripts/queue-memory.py PID PORT SUBNQN churn N     # N connections: ICReq, admin Connect, close

The target must run with JAVA_OPTS=-XX:NativeMemoryTracking=summary for the NMT figure."""
import os, socket, struct, subprocess, sys, time

HOSTNQN = b"nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"

def icreq():
    return struct.pack("<BBBBI", 0x00, 0, 128, 0, 128) + struct.pack("<HBBI", 0, 0, 0, 0) + bytes(112)

def capsule(sqe, data=b""):
    plen = 72 + len(data)
    return struct.pack("<BBBBI", 0x04, 0, 72, 72 if data else 0, plen) + sqe + data

def connect_cmd(qid, sqsize, subnqn, cntlid):
    sqe = bytearray(64)
    sqe[0] = 0x7F; sqe[4] = 0x01  # fabrics, fctype Connect
    struct.pack_into("<H", sqe, 2, 1)  # cid
    sqe[24:40] = struct.pack("<QIxxxB", 0, 1024, 0x01)  # SGL: data block, in-capsule (offset)
    struct.pack_into("<HHHH", sqe, 40, 0, qid, sqsize, 0)  # recfmt, qid, sqsize, cattr/resv
    data = bytearray(1024)
    struct.pack_into("<H", data, 16, cntlid)
    data[256:256 + len(subnqn)] = subnqn
    data[512:512 + len(HOSTNQN)] = HOSTNQN
    return capsule(bytes(sqe), bytes(data))

def prop_set(ofst, value):
    sqe = bytearray(64)
    sqe[0] = 0x7F; sqe[4] = 0x00
    struct.pack_into("<H", sqe, 2, 2)
    sqe[40] = 0  # 4 bytes
    struct.pack_into("<I", sqe, 44, ofst)
    struct.pack_into("<Q", sqe, 48, value)
    return capsule(bytes(sqe))

def recv_pdu(s):
    hdr = b""
    while len(hdr) < 8:
        hdr += s.recv(8 - len(hdr))
    plen = struct.unpack_from("<I", hdr, 4)[0]
    rest = b""
    while len(rest) < plen - 8:
        rest += s.recv(plen - 8 - len(rest))
    return hdr + rest

def open_queue(port, qid, sqsize, subnqn, cntlid):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(10)
    s.sendall(icreq()); recv_pdu(s)
    s.sendall(connect_cmd(qid, sqsize, subnqn, cntlid))
    r = recv_pdu(s)
    status = struct.unpack_from("<H", r, 8 + 14)[0] >> 1
    if status != 0:
        raise SystemExit("connect of queue %d refused: status 0x%x" % (qid, status))
    return s, struct.unpack_from("<H", r, 8)[0]

def memory(pid):
    rss = [l for l in open("/proc/%d/status" % pid) if l.startswith("VmRSS")][0].split()[1]
    nmt = subprocess.run([os.path.join(os.environ.get("JAVA_HOME", "/usr"), "bin", "jcmd"), str(pid), "VM.native_memory", "summary"], capture_output=True, text=True).stdout
    other = [l.strip() for l in nmt.splitlines() if l.strip().startswith("- ") and "Other" in l]
    return "RSS %s MiB, NMT %s" % (int(rss) // 1024, other[0] if other else "(NMT off)")

def main():
    pid, port, subnqn, mode, n = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode(), sys.argv[4], int(sys.argv[5])
    print("before:", memory(pid))
    held = []
    if mode == "hold":
        while len(held) < n:
            admin, cntlid = open_queue(port, 0, 31, subnqn, 0xFFFF)
            admin.sendall(prop_set(0x14, 1 | 6 << 16 | 4 << 20)); recv_pdu(admin)
            held.append(admin)
            for qid in range(1, min(125, n - len(held) + 1) + 1):
                held.append(open_queue(port, qid, 127, subnqn, cntlid)[0])
        time.sleep(1)
        print("holding %d queues:" % len(held), memory(pid))
    else:
        for i in range(n):
            s, _ = open_queue(port, 0, 31, subnqn, 0xFFFF)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        time.sleep(2)
        print("after %d churned connections:" % n, memory(pid))
    for s in held:
        s.close()

main()
