"""busybox (riscv64, static) under pemu-riscv64 and qemu-riscv64: same output."""
from __future__ import annotations

import pytest
from lu_util import needs_qemu, run_pemu, run_qemu

COMMANDS = [
    ["sh", "-c", "echo hi | wc -c"],
    ["ls", "-l", "/"],
    ["sort", "-r", "{dir}/src/lines"],
    ["find", "{dir}/src"],
    ["awk", "{ s += length($0) } END { print NR, s }", "{dir}/src/lines"],
    ["sh", "-c", "cd {dir} && tar cf t.tar src && tar tf t.tar && gzip -c t.tar > t.tgz"
     " && gunzip -c t.tgz | cmp - t.tar && echo roundtrip ok"],
    ["sh", "-c", "for i in 3 1 2; do echo $i; done | sort; exit 3"],
]


def _tree(d):
    (d / "src" / "sub").mkdir(parents=True)
    (d / "src" / "lines").write_text("pear\napple\nfig\n")
    (d / "src" / "sub" / "deep").write_text("x" * 3000)
    return d


@needs_qemu
@pytest.mark.parametrize("cmd", COMMANDS, ids=[c[0] + "-" + str(i) for i, c in enumerate(COMMANDS)])
def test_busybox_same_as_qemu(busybox, tmp_path, cmd):
    qd, pd = _tree(tmp_path / "q"), _tree(tmp_path / "p")
    q = run_qemu([busybox, *[a.replace("{dir}", str(qd)) for a in cmd]], str(qd))
    p = run_pemu([busybox, *[a.replace("{dir}", str(pd)) for a in cmd]], str(pd))
    assert p.status == q.status, p.err
    assert p.out.replace(str(pd).encode(), b"D") == q.out.replace(str(qd).encode(), b"D")
    assert p.err.replace(str(pd).encode(), b"D") == q.err.replace(str(qd).encode(), b"D")
