#!/usr/bin/env python3
"""Talks to Keel the way SPDK's scripts/rpc.py frames JSON-RPC (our own code, written to that framing):
each request pretty-printed with json.dumps(indent=2) and sent with no delimiter, the answer read by
decoding the first complete JSON value out of what has arrived. Prints one line per call; exits 1 on a
wrong answer."""
import json
import socket
import sys


class Client:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(20)
        self.sock.connect(path)
        self.buf = ""
        self.next_id = 0

    def call(self, method, params=None):
        self.next_id += 1
        req = {"jsonrpc": "2.0", "method": method, "id": self.next_id}
        if params:
            req["params"] = params
        self.sock.sendall(json.dumps(req, indent=2).encode("utf-8"))
        while True:
            text = self.buf.lstrip()
            try:
                obj, end = json.JSONDecoder().raw_decode(text)
                self.buf = text[end:]
                return obj
            except ValueError:
                data = self.sock.recv(4096)
                if not data:
                    raise SystemExit("connection closed with partial answer: " + self.buf)
                self.buf += data.decode("utf-8")


def main():
    c = Client(sys.argv[1])
    checks = [
        ("spdk_get_version", None, lambda r: r["result"]["version"].startswith("Keel")),
        ("rpc_get_methods", {"current": True}, lambda r: "bdev_malloc_create" in r["result"]),
        ("bdev_malloc_create", {"name": "PyMalloc", "block_size": 512, "num_blocks": 128},
         lambda r: r["result"] == "PyMalloc"),
        ("bdev_get_bdevs", {"name": "PyMalloc"}, lambda r: r["result"][0]["num_blocks"] == 128),
        ("framework_get_config", {"name": "bdev"}, lambda r: any(e["method"] == "bdev_malloc_create" for e in r["result"])),
        ("no_such_method", None, lambda r: r["error"]["code"] == -32601),
        ("bdev_malloc_delete", {"name": "PyMalloc"}, lambda r: r["result"] is True),
    ]
    for method, params, ok in checks:
        answer = c.call(method, params)
        if answer.get("id") != c.next_id or not ok(answer):
            print("WRONG", method, json.dumps(answer))
            sys.exit(1)
        print("ok", method)


if __name__ == "__main__":
    main()
