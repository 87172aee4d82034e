"""Benchmark: pemu-img against qemu-img on the same work, in the same run (not a test).

Images (built once per run, in a temporary directory, page cache warm):

- ``src.qcow2``: 1 GiB virtual, 512 MiB of random data in scattered extents
  (64 KiB to 2 MiB long, cluster aligned);
- ``ref.raw``: the same guest data as a sparse raw file;
- ``top.qcow2``: an overlay on ``src.qcow2`` with 256 scattered 256 KiB writes;
- ``text.qcow2``: 128 MiB of compressible data, for ``convert -c``.

Each case runs both tools alternately ``--runs`` times; every pair gives a
ratio qemu time / pemu time (the throughput ratio, goal >= 0.9).  Printed:
best time of each tool, and the median and range of the ratios, and the median
ratio of CPU time (user + system; less sensitive to other load on the machine).  Times are
whole commands, so pemu's include the Python interpreter's start-up, which
is measured and printed separately.  The tools take turns going first, and
``sync`` runs (untimed) before each command.

Usage: ``python3 benchmarks/img.py [--runs N] [--dir DIR] [--no-compress]``
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MIB = 1 << 20


def _time(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def _time_cpu(cmd: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = _time(cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _scattered_raw(path: str, size: int, data: int, seed: int = 1) -> None:
    """A sparse raw file with ``data`` bytes of random data in scattered extents."""
    rnd = random.Random(seed)
    cl = 64 << 10
    used = bytearray(size // cl)
    total = 0
    with open(path, "wb") as f:
        f.truncate(size)
        while total < data:
            n = min(rnd.randrange(1, 33), (data - total) // cl)
            start = rnd.randrange(0, len(used) - n)
            if any(used[start:start + n]):
                continue
            used[start:start + n] = b"\1" * n
            f.seek(start * cl)
            f.write(os.urandom(n * cl))
            total += n * cl


def _text_raw(path: str, size: int) -> None:
    words = b"the quick brown fox jumps over a lazy dog and keeps running "
    with open(path, "wb") as f:
        line = bytearray()
        rnd = random.Random(2)
        while len(line) < MIB:
            line += words[rnd.randrange(len(words) // 2):] + str(rnd.random()).encode()
        for _ in range(size // MIB):
            f.write(line[:MIB])


def _prepare(d: str, qemu_img: str, qemu_io: str, compress: bool) -> None:
    seed = os.path.join(d, "seed.raw")
    _scattered_raw(seed, 1024 * MIB, 512 * MIB)
    subprocess.run([qemu_img, "convert", "-O", "qcow2", seed, os.path.join(d, "src.qcow2")],
                   check=True)
    os.rename(seed, os.path.join(d, "ref.raw"))
    top = os.path.join(d, "top.qcow2")
    subprocess.run([qemu_img, "create", "-q", "-f", "qcow2", "-b", "src.qcow2", "-F", "qcow2",
                    top], check=True)
    rnd = random.Random(3)
    cmds = []
    for i in range(256):
        off = rnd.randrange(0, 1024 * MIB - (256 << 10)) // 65536 * 65536
        cmds += ["-c", f"write -P {i & 255} {off} 256k"]
    subprocess.run([qemu_io, "-f", "qcow2", *cmds, top], check=True, stdout=subprocess.DEVNULL)
    if compress:
        text = os.path.join(d, "text.raw")
        _text_raw(text, 128 * MIB)
        subprocess.run([qemu_img, "convert", "-O", "qcow2", text, os.path.join(d, "text.qcow2")],
                       check=True)
        os.unlink(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default=None, help="where the images go (default: $TMPDIR)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-compress", action="store_true", help="skip the convert -c case")
    args = ap.parse_args()
    qemu_img, qemu_io = shutil.which("qemu-img"), shutil.which("qemu-io")
    if qemu_img is None or qemu_io is None:
        print("qemu-img/qemu-io not found (apt-get install qemu-utils)", file=sys.stderr)
        return 1
    pemu = [sys.executable, "-m", "pemu.cli.img"]
    d = tempfile.mkdtemp(dir=args.dir, prefix="pemu-bench-")
    try:
        _prepare(d, qemu_img, qemu_io, not args.no_compress)
        p = lambda name: os.path.join(d, name)  # noqa: E731
        cases = [
            ("qcow2->raw", ["convert", "-O", "raw", p("src.qcow2"), p("out.raw")], "out.raw"),
            ("raw->qcow2", ["convert", "-O", "qcow2", p("ref.raw"), p("out.qcow2")], "out.qcow2"),
            ("chain->qcow2", ["convert", "-O", "qcow2", p("top.qcow2"), p("out.qcow2")],
             "out.qcow2"),
            ("compare", ["compare", p("src.qcow2"), p("ref.raw")], None),
        ]
        if not args.no_compress:
            cases.append(("text -c qcow2", ["convert", "-c", "-O", "qcow2", p("text.qcow2"),
                                            p("out.qcow2")], "out.qcow2"))
        for name in ("src.qcow2", "ref.raw", "top.qcow2"):  # warm the page cache
            subprocess.run(["cat", p(name)], check=True, stdout=subprocess.DEVNULL)
        startup = min(_time([sys.executable, "-c", "import pemu.cli.img"])
                      for _ in range(args.runs))
        print(f"{'case':16}{'qemu-img':>10}{'pemu-img':>10}{'ratio median':>14}"
              f"{'ratio range':>16}{'CPU ratio':>11}   (ratio = qemu time / pemu time, "
              "goal >= 0.9)")
        for label, cmd, out in cases:
            tq, tp, ratios, cpu_ratios = [], [], [], []
            for run in range(args.runs):
                times, cpu = {}, {}
                # alternate who goes first; write back the last run's output first, so
                # neither tool pays for the other's dirty pages
                for tool in (("qemu", "pemu") if run % 2 == 0 else ("pemu", "qemu")):
                    subprocess.run(["sync"], check=True)
                    times[tool], cpu[tool] = _time_cpu(
                        [qemu_img, *cmd] if tool == "qemu" else [*pemu, *cmd])
                    if out:
                        os.unlink(p(out))
                tq.append(times["qemu"])
                tp.append(times["pemu"])
                ratios.append(times["qemu"] / times["pemu"])
                cpu_ratios.append(cpu["qemu"] / max(cpu["pemu"], 1e-6))
            print(f"{label:16}{min(tq):9.2f}s{min(tp):9.2f}s{statistics.median(ratios):14.2f}"
                  f"{min(ratios):9.2f}-{max(ratios):.2f}{statistics.median(cpu_ratios):11.2f}")
        print(f"(pemu-img's times include {startup:.2f} s of Python start-up and imports)")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
