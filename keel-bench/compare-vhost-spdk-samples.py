#!/usr/bin/env python3
"""Vhost-user-blk targets side by side in same-state samples: the VM these benchmarks run on flips between a slow and a
fast state second by second (one 5 s row of compare-vhost-spdk.sh can hold both), so this keeps each target and SPDK's
initiator (bdevperf -z, virtio-user, two virtqueues of 512, core 1) up for a round and asks for many 1 s tests
(perform_tests) at each queue depth in turn, targets interleaved round by round, then prints per queue depth the median,
upper quartile and best sample of each, and every sample to RAW (JSON), so that samples of the same state can be
compared. Targets: NAME:ROOT (a Keel tree with a built launcher: `taskset -c 0 ROOT/keel start -m 0x1 --pin`, JAVA_OPTS
from JOPTS_NAME) or NAME: (SPDK's `vhost -m 0x1`), serving a null bdev of 4 KiB blocks as vhost.0.
Needs SPDK's tools (../shared/peers/spdk/README.md; SPDK_ENV, default /var/tmp/spdk-peer/spdk-env.sh); without them
it says so and exits 0. Not part of ./test.sh.
Usage: ROUNDS=3 TESTS=5 QDS="1 32 128" keel-bench/compare-vhost-spdk-samples.py keel:. spdk:
"""
import os, sys, subprocess, time, statistics, re, json
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here); import rpc
env0 = dict(os.environ)
spdk_env = os.environ.get('SPDK_ENV', '/var/tmp/spdk-peer/spdk-env.sh')
if os.path.exists(spdk_env):
    out = subprocess.run(['bash', '-c', f'. {spdk_env} >/dev/null 2>&1; env'], capture_output=True, text=True).stdout
    for l in out.splitlines():
        if '=' in l: k, v = l.split('=', 1); env0[k] = v
BP, BIN = env0.get('SPDK_BDEVPERF', ''), env0.get('SPDK_BIN', '')
if not (os.access(BP, os.X_OK) and os.access(BIN + '/vhost', os.X_OK)):
    print("compare-vhost-spdk-samples.py: SPDK's bdevperf and vhost are not built (see ../shared/peers/spdk/README.md): nothing to compare")
    sys.exit(0)
rounds = int(os.environ.get('ROUNDS', 2)); tests = int(os.environ.get('TESTS', 6))
qds = [int(x) for x in os.environ.get('QDS', '1 32 128').split()]
d = '/var/tmp/keel-bench/vhost-samples'; os.makedirs(d, exist_ok=True)
open(d + '/target.json', 'w').write(json.dumps({"subsystems": [
    {"subsystem": "bdev", "config": [{"method": "bdev_null_create", "params": {"name": "Null0", "num_blocks": 262144, "block_size": 4096}}]},
    {"subsystem": "vhost_blk", "config": [{"method": "vhost_create_blk_controller", "params": {"ctrlr": "vhost.0", "dev_name": "Null0", "cpumask": "0x1"}}]}]}))
res = {}
for spec in sys.argv[1:]:  # build each Keel tree once, before the timed runs
    root = spec.split(':', 1)[1]
    if root:
        subprocess.run([os.path.abspath(root) + '/keel', '--version'], stdout=subprocess.DEVNULL, check=True)
def wait(path, n=200):
    for _ in range(n):
        if os.path.exists(path): return True
        time.sleep(0.05)
    return False
for r in range(rounds):
    for spec in sys.argv[1:]:
        name, root = spec.split(':', 1)
        root = os.path.abspath(root) if root else root
        vd = f'{d}/{name}'; os.makedirs(vd, exist_ok=True)
        for f in (vd + '/vhost.0', f'{d}/{name}.sock', f'{d}/bp-{name}.sock'):
            try: os.unlink(f)
            except FileNotFoundError: pass
        if root:
            env = dict(env0, KEEL_SKIP_BUILD='1', JAVA_OPTS=os.environ.get('JOPTS_' + name, ''))
            t = subprocess.Popen(['taskset', '-c', '0', root + '/keel', 'start', '-m', '0x1', '--pin', '-c', d + '/target.json',
                                  '-r', f'{d}/{name}.sock', '-S', vd], env=env, stdout=open(f'{d}/{name}.log', 'w'), stderr=subprocess.STDOUT)
        else:
            t = subprocess.Popen([BIN + '/vhost', '-m', '0x1', '-s', '512', '-r', f'{d}/{name}.sock', '-S', vd, '--json', d + '/target.json'],
                                 env=env0, stdout=open(f'{d}/{name}.log', 'w'), stderr=subprocess.STDOUT)
        wait(vd + '/vhost.0')
        open(f'{d}/host-{name}.json', 'w').write(json.dumps({"subsystems": [{"subsystem": "bdev", "config": [
            {"method": "bdev_virtio_attach_controller", "params": {"name": "VirtioBlk0", "trtype": "user", "traddr": vd + '/vhost.0',
             "dev_type": "blk", "vq_count": 2, "vq_size": 512}}]}]}))
        logf = f'{d}/bp-{name}.log'
        b = subprocess.Popen([BP, '--json', f'{d}/host-{name}.json', '-m', '0x2', '-g', '-s', '512', '-z', '-r', f'{d}/bp-{name}.sock',
                              '-q', '32', '-o', '4096', '-w', 'randread', '-t', '1'], env=env0, stdout=open(logf, 'w'), stderr=subprocess.STDOUT)
        wait(f'{d}/bp-{name}.sock'); time.sleep(1.0)
        def run(qd, secs):
            before = open(logf, errors='replace').read().replace('\r', '\n').count('Total')
            rpc.call(f'{d}/bp-{name}.sock', 'perform_tests', {'queue_depth': qd, 'time_in_sec': secs, 'workload_type': 'randread', 'io_size': '4096'})
            for _ in range(100):
                txt = open(logf, errors='replace').read().replace('\r', '\n')
                tot = [l for l in txt.split('\n') if re.match(r'\s*Total\s*:', l)]
                if txt.count('Total') > before and tot:
                    return float(tot[-1].split(':')[1].split()[0])
                time.sleep(0.02)
            return 0.0
        for qd in qds: run(qd, 1)
        for i in range(tests):
            for qd in qds:
                res.setdefault((name, qd), []).append(run(qd, 1))
        b.terminate(); b.wait(); t.terminate(); t.wait()
    for qd in qds:
        line = f'after round {r+1} QD{qd}:'
        for spec in sys.argv[1:]:
            name = spec.split(':')[0]; v = sorted(res[(name, qd)])
            line += f'  {name} med {statistics.median(v)/1e6:.2f} q3 {v[int(len(v)*0.75)]/1e6:.2f} max {v[-1]/1e6:.2f}'
        print(line, flush=True)
    json.dump({f'{k[0]} {k[1]}': v for k, v in res.items()}, open(os.environ.get('RAW', d + '/samples.json'), 'w'))
