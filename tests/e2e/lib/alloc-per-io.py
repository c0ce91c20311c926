"""Heap bytes allocated per I/O in steady state on a Keel NVMe-oF target and a Keel bdevperf at once, for the RDMA
guest scripts: the reactors' allocated bytes (framework_get_reactors' keel_allocated_bytes) against the I/O each side
completed (nvmf_get_stats' completed_nvme_io; bdev_get_iostat's reads and writes) over a window of SECONDS.

The RPCs that read the counters run on the reactors they measure, so the window holds one sampling's worth of their
allocation (the rest of one round's RPCs and the start of the next). That is taken off: a round right after the first
one measures it (with what the I/O of those few seconds allocated, so a per-I/O leak reads a few percent low). One round before everything else takes the first calls' costs (class loading, lambdas) out of the
picture, and one connection per process is kept for all rounds (no accept per call), one python start for all.

usage: python3 alloc-per-io.py TARGET_SOCKET BDEVPERF_SOCKET SECONDS
Prints each side's figures and, last, "TARGET_BPIO=x HOST_BPIO=y" (bytes per I/O, one decimal).
"""
import json
import socket
import sys
import time


class Rpc:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 1

    def call(self, method):
        self.sock.sendall(json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method}).encode())
        self.next_id += 1
        dec = json.JSONDecoder()
        while True:
            text = self.buf.decode().lstrip()
            if text:
                try:
                    answer, end = dec.raw_decode(text)
                    self.buf = text[end:].encode()
                    if "error" in answer:
                        sys.exit(f"{method}: {answer['error']}")
                    return answer["result"]
                except ValueError:
                    pass
            chunk = self.sock.recv(65536)
            if not chunk:
                sys.exit(f"{method}: the peer closed the connection")
            self.buf += chunk


def allocated(rpc):
    return sum(r["keel_allocated_bytes"] for r in rpc.call("framework_get_reactors")["reactors"])


def sample(target, host):
    """(target bytes, target I/Os, host bytes, host I/Os), each side's bytes read before its I/O count."""
    t_bytes = allocated(target)
    t_ios = sum(g["completed_nvme_io"] for g in target.call("nvmf_get_stats")["poll_groups"])
    h_bytes = allocated(host)
    h_ios = sum(b["num_read_ops"] + b["num_write_ops"] for b in host.call("bdev_get_iostat")["bdevs"])
    return t_bytes, t_ios, h_bytes, h_ios


def main():
    target, host, seconds = Rpc(sys.argv[1]), Rpc(sys.argv[2]), float(sys.argv[3])
    sample(target, host)  # the first calls' own one-time costs
    s0 = sample(target, host)
    s1 = sample(target, host)  # right after: what one round allocates on each side
    t1 = time.monotonic()
    time.sleep(seconds)
    s2 = sample(target, host)
    window = time.monotonic() - t1
    figures = []
    for side, b, n in (("target", 0, 1), ("host", 2, 3)):
        own = s1[b] - s0[b]
        ios = s2[n] - s1[n]
        total = s2[b] - s1[b]
        per_io = (total - own) / ios if ios > 0 else float("nan")
        figures.append(per_io)
        print(f"{side}: {total} bytes allocated on its reactors over {ios} I/Os in {window:.1f} s, less {own} "
              f"for a sampling round: {per_io:.2f} B/IO", flush=True)
    print(f"TARGET_BPIO={figures[0]:.1f} HOST_BPIO={figures[1]:.1f}")


if __name__ == "__main__":
    main()
