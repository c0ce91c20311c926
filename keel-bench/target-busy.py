"""Prints the busy nanoseconds of a Keel process's reactors so far (framework_get_reactors, summed over reactors).

Usage: python3 keel-bench/target-busy.py RPC_SOCKET
"""
import sys

from rpc import call

print(sum(r["busy"] for r in call(sys.argv[1], "framework_get_reactors")["result"]["reactors"]))
