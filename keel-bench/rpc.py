"""A JSON-RPC call to a Keel (or SPDK) process from python, for the bench scripts: a `keel rpc` JVM start would take
CPU from the measured cores.

As a program: python3 keel-bench/rpc.py SOCKET METHOD [PARAMS_JSON] prints the result as JSON, exits 1 on an error.
As a module: call(socket_path, method, params=None) returns the whole answer (with "result" or "error").
"""
import json
import socket
import sys


def call(path, method, params=None):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    req = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        req["params"] = params
    s.sendall(json.dumps(req).encode())
    buf, dec = b"", json.JSONDecoder()
    while True:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("the peer closed the connection before answering")
        buf += chunk
        try:
            return dec.decode(buf.decode())
        except ValueError:
            continue


if __name__ == "__main__":
    try:
        answer = call(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else None)
    except (OSError, ConnectionError) as e:
        sys.exit(f"rpc: {e}")
    if "error" in answer:
        sys.exit(json.dumps(answer["error"]))
    print(json.dumps(answer["result"]))
