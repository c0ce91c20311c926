"""Prints the busy nanoseconds of a Keel process's reactors so far (framework_get_reactors, summed over reactors).

Usage: python3 keel-bench/target-busy.py RPC_SOCKET
A python client rather than `keel rpc`: a JVM start would take CPU from the measured cores.
"""
import json
import socket
import sys

s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "framework_get_reactors"}).encode())
buf, dec = b"", json.JSONDecoder()
while True:
    chunk = s.recv(65536)
    if not chunk:
        sys.exit(1)
    buf += chunk
    try:
        answer = dec.decode(buf.decode())
        break
    except ValueError:
        continue
print(sum(r["busy"] for r in answer["result"]["reactors"]))
