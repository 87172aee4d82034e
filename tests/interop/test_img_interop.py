"""pemu-img against qemu-img/qemu-io: both directions, qemu is the oracle."""

from __future__ import annotations

import json
import os

import pytest
from test_img_util import assert_clean, needs_qemu, pemu_img, qemu_img, qemu_io

pytestmark = needs_qemu


@pytest.mark.parametrize("cs", ["512", "4k", "64k", "2M"])
@pytest.mark.parametrize("compat", ["0.10", "1.1"])
def test_pemu_written_image_reads_back_in_qemu(tmp_path, cs, compat):
    from pemu.block import open_image

    img = str(tmp_path / "a.qcow2")
    pemu_img("create", "-f", "qcow2", "-o", f"cluster_size={cs},compat={compat}", img, "8M")
    with open_image(img, readonly=False) as n:
        n.write(0, b"\x11" * 70000)
        n.write(1 << 20, b"\x22" * 4096)
        n.write(3000, b"\x33" * 10)
        n.write_zeroes(4 << 20, 1 << 20)
        n.write(6 << 20, b"\x44" * (2 << 20))
        n.discard(6 << 20, 2 << 20)
        n.write(7 << 20, b"\x55" * (1 << 19))
    assert_clean(img)
    qemu_io(img, "read -P 0x11 0 3000", "read -P 0x33 3000 10", "read -P 0x11 3010 66990",
            "read -P 0x22 1M 4k", "read -P 0 4M 1M", "read -P 0 6M 1M",
            "read -P 0x55 7M 512k", "read -P 0 7680k 512k")


def test_info_json_matches_qemu(tmp_path):
    a, b = str(tmp_path / "a.qcow2"), str(tmp_path / "b.qcow2")
    qemu_img("create", "-f", "qcow2", a, "64M")
    qemu_io(a, "write -P 1 0 64k")
    qemu_img("snapshot", "-c", "s1", a)
    pemu_img("create", "-f", "qcow2", "-b", "a.qcow2", "-F", "qcow2", b)
    for args in (["--output=json", b], ["--backing-chain", "--output=json", b],
                 ["--backing-chain", b]):
        p = pemu_img("info", *args).stdout
        q = qemu_img("info", *args).stdout
        if "--output=json" in args:
            pj, qj = json.loads(p), json.loads(q)
            for d in (pj if isinstance(pj, list) else [pj]) + (
                    qj if isinstance(qj, list) else [qj]):
                d.pop("actual-size", None)
            assert pj == qj
        else:
            def strip(s):
                return [x for x in s.splitlines() if not x.startswith("disk size")]
            assert strip(p) == strip(q)


def _make_qemu_source(tmp_path, compression: str | None = None):
    base = str(tmp_path / "base.qcow2")
    top = str(tmp_path / "top.qcow2")
    qemu_img("create", "-f", "qcow2", base, "16M")
    qemu_io(base, "write -P 0xa1 0 1M", "write -P 0xa2 5M 300k", "write -P 0xa3 15M 1M")
    qemu_img("create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", top)
    qemu_io(top, "write -P 0xb1 512k 1M", "write -z 5M 64k", "write -P 0xb2 9M 4k")
    if compression:
        comp = str(tmp_path / f"comp-{compression}.qcow2")
        qemu_img("convert", "-c", "-O", "qcow2", "-o", f"compression_type={compression}",
                 top, comp)
        return comp
    return top


@pytest.mark.parametrize("compression", [None, "zlib", "zstd"])
@pytest.mark.parametrize("ofmt", ["raw", "qcow2"])
def test_convert_qemu_images_same_bytes(tmp_path, compression, ofmt):
    src = _make_qemu_source(tmp_path, compression)
    p, q = str(tmp_path / "p.out"), str(tmp_path / "q.out")
    pemu_img("convert", "-O", ofmt, src, p)
    qemu_img("convert", "-O", ofmt, src, q)
    if ofmt == "qcow2":
        assert_clean(p)
    assert qemu_img("compare", p, q).returncode == 0
    pr, qr = str(tmp_path / "p.raw"), str(tmp_path / "q.raw")
    qemu_img("convert", "-O", "raw", p, pr)
    qemu_img("convert", "-O", "raw", q, qr)
    with open(pr, "rb") as f1, open(qr, "rb") as f2:
        assert f1.read() == f2.read()


@pytest.mark.parametrize("ctype", ["zlib", "zstd"])
def test_convert_compressed_by_pemu(tmp_path, ctype):
    src = _make_qemu_source(tmp_path)
    out = str(tmp_path / "c.qcow2")
    pemu_img("convert", "-c", "-O", "qcow2", "-o", f"compression_type={ctype}", src, out)
    assert_clean(out)
    chk = json.loads(qemu_img("check", "--output=json", out).stdout)
    assert chk.get("compressed-clusters", 0) > 0
    assert qemu_img("compare", src, out).returncode == 0


def test_snapshots_both_ways(tmp_path):
    img = str(tmp_path / "s.qcow2")
    pemu_img("create", "-f", "qcow2", img, "4M")
    qemu_io(img, "write -P 1 0 128k")
    pemu_img("snapshot", "-c", "one", img)
    qemu_io(img, "write -P 2 64k 128k")
    qemu_img("snapshot", "-c", "two", img)
    qemu_io(img, "write -P 3 0 4M")
    assert_clean(img)
    listing = qemu_img("snapshot", "-l", img).stdout
    assert "one" in listing and "two" in listing
    def strip(s):
        return [ln.split()[:2] for ln in s.splitlines()]
    assert strip(pemu_img("snapshot", "-l", img).stdout) == strip(listing)
    pemu_img("snapshot", "-a", "one", img)
    assert_clean(img)
    qemu_io(img, "read -P 1 0 128k", "read -P 0 128k 1M")
    qemu_img("snapshot", "-a", "two", img)
    qemu_io(img, "read -P 1 0 64k", "read -P 2 64k 128k")
    pemu_img("snapshot", "-a", "two", img)
    qemu_io(img, "read -P 1 0 64k", "read -P 2 64k 128k")
    pemu_img("snapshot", "-d", "one", img)
    assert_clean(img)
    qemu_img("snapshot", "-d", "two", img)
    assert_clean(img)
    assert pemu_img("snapshot", "-l", img).stdout == ""
    r = pemu_img("snapshot", "-a", "nope", img, check=False)
    assert r.returncode == 1 and r.stderr.startswith("pemu-img: ")


def _chain(tmp_path, name):
    d = tmp_path / name
    d.mkdir()
    base, mid, top = str(d / "base.qcow2"), str(d / "mid.qcow2"), str(d / "top.qcow2")
    qemu_img("create", "-f", "qcow2", base, "8M")
    qemu_io(base, "write -P 0x10 0 4M")
    qemu_img("create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", mid)
    qemu_io(mid, "write -P 0x20 1M 1M", "write -z 3M 64k")
    qemu_img("create", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", top)
    qemu_io(top, "write -P 0x30 1536k 1M", "write -P 0x31 7M 4k")
    return base, mid, top


def _raw_of(tmp_path, img, name):
    out = str(tmp_path / name)
    qemu_img("convert", "-O", "raw", img, out)
    with open(out, "rb") as f:
        return f.read()


def test_commit_same_as_qemu(tmp_path):
    _pb, pm, pt = _chain(tmp_path, "p")
    _qb, qm, qt = _chain(tmp_path, "q")
    pemu_img("commit", pt)
    qemu_img("commit", qt)
    for p, q in ((pm, qm), (pt, qt)):
        assert_clean(p)
        assert _raw_of(tmp_path, p, "p.raw") == _raw_of(tmp_path, q, "q.raw")


@pytest.mark.parametrize("unsafe", [False, True])
def test_rebase_same_as_qemu(tmp_path, unsafe):
    _pb, _pm, pt = _chain(tmp_path, "p")
    _qb, _qm, qt = _chain(tmp_path, "q")
    flags = ["-u"] if unsafe else []
    pemu_img("rebase", *flags, "-b", "base.qcow2", "-F", "qcow2", pt)
    qemu_img("rebase", *flags, "-b", "base.qcow2", "-F", "qcow2", qt)
    assert_clean(pt)
    assert _raw_of(tmp_path, pt, "p.raw") == _raw_of(tmp_path, qt, "q.raw")
    info = json.loads(qemu_img("info", "--output=json", pt).stdout)
    assert info["backing-filename"] == "base.qcow2"


def test_check_exit_codes_and_repair(tmp_path):
    img = str(tmp_path / "l.qcow2")
    qemu_img("create", "-f", "qcow2", img, "16M")
    with open(img, "r+b") as f:
        f.truncate(0x80000)
        f.seek(0x20000 + 5 * 2)
        f.write(b"\x00\x01")
    p = pemu_img("check", img, check=False)
    q = qemu_img("check", img, check=False)
    assert p.returncode == q.returncode == 3
    assert p.stdout == q.stdout
    pj = json.loads(pemu_img("check", "--output=json", img, check=False).stdout)
    qj = json.loads(qemu_img("check", "--output=json", img, check=False).stdout)
    assert pj == qj
    assert pemu_img("check", "-r", "leaks", img, check=False).returncode == 0
    assert_clean(img)


def test_resize_map_measure_compare(tmp_path):
    img = str(tmp_path / "r.qcow2")
    pemu_img("create", "-f", "qcow2", img, "1M")
    qemu_io(img, "write -P 5 0 64k", "write -z 512k 64k")
    pemu_img("resize", img, "+2G")
    assert_clean(img)
    assert json.loads(qemu_img("info", "--output=json", img).stdout)["virtual-size"] == (
        (2 << 30) + (1 << 20))
    assert pemu_img("map", "--output=json", img).stdout == qemu_img(
        "map", "--output=json", img).stdout
    assert pemu_img("map", img).stdout == qemu_img("map", img).stdout
    for args in (["-O", "qcow2", img], ["--output=json", "-O", "qcow2", "--size", "3G"],
                 ["-O", "raw", img]):
        assert pemu_img("measure", *args).stdout == qemu_img("measure", *args).stdout
    r = pemu_img("resize", img, "1M", check=False)
    assert r.returncode == 1
    pemu_img("resize", "--shrink", img, "1M")
    assert_clean(img)
    other = str(tmp_path / "o.qcow2")
    qemu_img("convert", "-O", "qcow2", img, other)
    assert pemu_img("compare", img, other).returncode == 0
    qemu_io(other, "write -P 6 4096 512")
    r = pemu_img("compare", img, other, check=False)
    assert r.returncode == 1 and r.stdout == qemu_img("compare", img, other, check=False).stdout


def test_create_options_and_lazy_refcounts(tmp_path):
    img = str(tmp_path / "c.qcow2")
    r = pemu_img("create", "-f", "qcow2", "-o",
                 "cluster_size=4k,lazy_refcounts=on,compression_type=zstd", img, "10M")
    q = qemu_img("create", "-f", "qcow2", "-o",
                 "cluster_size=4k,lazy_refcounts=on,compression_type=zstd",
                 str(tmp_path / "q.qcow2"), "10M")
    assert r.stdout.replace("c.qcow2", "q.qcow2") == q.stdout
    from pemu.block import open_image

    with open_image(img, readonly=False) as n:
        n.write(0, b"\x07" * 100000)
    assert_clean(img)
    qemu_io(img, "read -P 7 0 100000")
    pemu_img("amend", "-o", "lazy_refcounts=off", img)
    info = json.loads(qemu_img("info", "--output=json", img).stdout)
    assert info["format-specific"]["data"]["lazy-refcounts"] is False
    for prealloc in ("metadata", "falloc", "full"):
        p = str(tmp_path / f"{prealloc}.qcow2")
        pemu_img("create", "-f", "qcow2", "-o", f"preallocation={prealloc}", p, "3M")
        assert_clean(p)
        qemu_io(p, "read -P 0 0 3M")


def test_amend_compat_downgrade(tmp_path):
    img = str(tmp_path / "a.qcow2")
    qemu_img("create", "-f", "qcow2", img, "4M")
    qemu_io(img, "write -P 1 0 1M", "write -z 256k 128k")
    pemu_img("amend", "-o", "compat=0.10", img)
    assert_clean(img)
    assert json.loads(qemu_img("info", "--output=json", img).stdout)[
        "format-specific"]["data"]["compat"] == "0.10"
    qemu_io(img, "read -P 1 0 256k", "read -P 0 256k 128k", "read -P 1 384k 640k")


def test_convert_options(tmp_path):
    src = _make_qemu_source(tmp_path)
    base = str(tmp_path / "base.qcow2")
    out = str(tmp_path / "withb.qcow2")
    pemu_img("convert", "-O", "qcow2", "-B", "base.qcow2", "-F", "qcow2", src, out)
    assert_clean(out)
    assert qemu_img("compare", src, out).returncode == 0
    raw = str(tmp_path / "n.raw")
    qemu_img("create", "-f", "raw", raw, "16M")
    qemu_io(raw, "write -P 0xee 0 16M", fmt="raw")
    r = pemu_img("convert", "-p", "-n", "-O", "raw", "-S", "0", src, raw)
    assert "100.00/100%" in r.stdout
    assert qemu_img("compare", "-F", "raw", src, raw).returncode == 0
    assert base


def test_backing_relative_path_and_errors(tmp_path):
    sub = tmp_path / "d"
    sub.mkdir()
    base, top = str(sub / "base.raw"), str(sub / "top.qcow2")
    qemu_img("create", "-f", "raw", base, "1M")
    qemu_io(base, "write -P 9 0 1M", fmt="raw")
    pemu_img("create", "-f", "qcow2", "-b", "base.raw", "-F", "raw", top)
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        qemu_io("d/top.qcow2", "read -P 9 0 1M")
        r = pemu_img("convert", "-O", "raw", "d/top.qcow2", "out.raw")
        with open("out.raw", "rb") as f:
            assert f.read() == b"\x09" * (1 << 20)
    finally:
        os.chdir(cwd)
    r = pemu_img("info", str(tmp_path / "missing.qcow2"), check=False)
    assert r.returncode == 1 and r.stderr.count("\n") == 1
    assert pemu_img("check", base, check=False).returncode == 63
    assert pemu_img("frobnicate", check=False).returncode == 1
