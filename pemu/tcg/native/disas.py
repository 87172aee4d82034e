"""Host code as text, for `-d out_asm`: GNU objdump when it is installed, else hex bytes."""
from __future__ import annotations

import shutil
import subprocess
import tempfile


def disassemble(code: bytes, addr: int = 0) -> list[str]:
    """One line per host instruction, `address: text`."""
    objdump = shutil.which("objdump")
    if objdump is not None:
        with tempfile.NamedTemporaryFile(suffix=".bin") as f:
            f.write(code)
            f.flush()
            res = subprocess.run([objdump, "-D", "-b", "binary", "-mi386:x86-64", "-M", "intel",
                                  f"--adjust-vma={addr:#x}", f.name],
                                 capture_output=True, text=True)
        lines = []
        for line in res.stdout.splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and parts[0].strip().endswith(":"):
                lines.append(f"0x{parts[0].strip()[:-1]:>016}:  {' '.join(parts[2].split())}")
        if res.returncode == 0 and lines:
            return lines
    return [f"0x{addr + i:016x}:  .byte {', '.join(f'0x{b:02x}' for b in code[i:i + 8])}"
            for i in range(0, len(code), 8)]
