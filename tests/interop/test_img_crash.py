"""kill -9 a pemu writer at random moments: qemu-img check finds no corruption."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

from test_img_util import QEMU_IMG, needs_qemu, qemu_img

pytestmark = needs_qemu

WRITER = r"""
import os, random, sys
from pemu.block import open_image
from pemu.block.qcow2_snapops import create_snapshot
path, seed = sys.argv[1], int(sys.argv[2])
rnd = random.Random(seed)
n = open_image(path, readonly=False)
sys.stdout.write("ready\n"); sys.stdout.flush()
i = 0
while True:
    i += 1
    off = rnd.randrange(0, n.size - 300000) // 512 * 512
    op = rnd.random()
    if op < 0.6:
        n.write(off, bytes([i & 255]) * rnd.choice([512, 4096, 65536, 200000]))
    elif op < 0.75:
        n.write_zeroes(off, rnd.choice([65536, 131072, 262144]))
    elif op < 0.9:
        n.discard(off, rnd.choice([65536, 262144]))
    elif op < 0.93 and len(n.snapshots) < 3:
        sys.stdout.write("snapshot\n"); sys.stdout.flush()
        create_snapshot(n, f"s{i}")
        sys.stdout.write("snapshot done\n"); sys.stdout.flush()
    else:
        n.write(rnd.randrange(0, n.size // 65536) * 65536, os.urandom(65536))
"""


def test_kill_minus_nine(tmp_path):
    rnd = random.Random(1234)
    for it in range(30):
        img = str(tmp_path / f"c{it}.qcow2")
        opts = rnd.choice(["cluster_size=4k", "cluster_size=64k",
                           "cluster_size=64k,lazy_refcounts=on", "cluster_size=512"])
        qemu_img("create", "-f", "qcow2", "-o", opts, img, "48M")
        p = subprocess.Popen([sys.executable, "-c", WRITER, img, str(it)],
                             stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        time.sleep(rnd.uniform(0.01, 0.4))
        p.send_signal(signal.SIGKILL)
        p.wait()
        marks = p.stdout.read().splitlines()
        last = {m: i for i, m in enumerate(marks)}
        in_snapshot = last.get("snapshot", -1) > last.get("snapshot done", -1)
        r = subprocess.run([QEMU_IMG, "check", img], capture_output=True, text=True,
                           check=False)
        if r.returncode == 2 and in_snapshot:
            # Killed inside snapshot creation: between raising the shared clusters'
            # refcounts and clearing their COPIED flags the image has OFLAG_COPIED
            # mismatches (QEMU's own snapshot creation has the same window, as the
            # flag and the refcount cannot be written at once). Nothing else is allowed.
            errors = [ln for ln in (r.stdout + r.stderr).splitlines() if ln.startswith("ERROR")]
            assert errors and all("OFLAG_COPIED" in ln for ln in errors), r.stdout + r.stderr
            continue
        assert r.returncode in (0, 3), f"iteration {it} ({opts}):\n{r.stdout}{r.stderr}"
