"""The x / xp memory dump, laid out exactly as QEMU's memory_dump().

`x` reads virtual addresses (through the CPU's MMU), `xp` physical ones.
Lines hold 16 bytes (8 for byte-sized units); values print as 0x%0Nx,
%#No (octal), %Nu, %Nd or 'c' character literals; /i disassembles with the
CPU's `disassemble(addr, data) -> [(length, text)]` when it has one.
"""
from __future__ import annotations

from typing import Any

from pemu.monitor import memaccess
from pemu.monitor.hmp_args import Format


def _printc(c: int) -> str:
    if c == 0x27:
        return "'\\''"
    if c == 0x5C:
        return "'\\\\'"
    if c == 0x0A:
        return "'\\n'"
    if c == 0x0D:
        return "'\\r'"
    if 32 <= c <= 126:
        return f"'{chr(c)}'"
    return f"'\\x{c:02x}'"


def _reader(machine: Any, cpu: Any, physical: bool):
    if physical:
        return lambda addr, n: memaccess.read_phys(machine.memory, addr, n)
    return lambda addr, n: memaccess.read_virt(cpu, machine.memory, addr, n)


def memory_dump(machine: Any, cpu: Any, fmt: Format, addr: int, physical: bool) -> str:
    read = _reader(machine, cpu, physical)
    if fmt.format == "i":
        return _disassemble(cpu, read, fmt.count, addr)
    wsize = fmt.size
    length = wsize * fmt.count
    line_size = 8 if wsize == 1 else 16
    f = fmt.format
    digits = 0
    if f == "o":
        digits = (wsize * 8 + 2) // 3
    elif f in ("u", "d"):
        digits = (wsize * 8 * 10 + 32) // 33
    elif f == "c":
        wsize = 1
    else:
        digits = wsize * 8 // 4
    out = []
    while length > 0:
        line = [f"{addr & (1 << 64) - 1:016x}:"]
        n = min(length, line_size)
        data = read(addr, n)
        if data is None:
            line.append(" Cannot access memory")
            out.append("".join(line) + "\n")
            break
        for i in range(0, n, wsize):
            v = int.from_bytes(data[i:i + wsize], "little")
            if f == "o":
                text = "0" + format(v, "o") if v else "0"
                line.append(" " + text.rjust(digits))
            elif f == "u":
                line.append(" " + str(v).rjust(digits))
            elif f == "d":
                if wsize == 8 and v >= 1 << 63:
                    v -= 1 << 64
                line.append(" " + str(v).rjust(digits))
            elif f == "c":
                line.append(" " + _printc(v))
            else:
                line.append(" 0x" + format(v, "x").rjust(digits, "0"))
        out.append("".join(line) + "\n")
        addr += n
        length -= n
    return "".join(out)


def _disassemble(cpu: Any, read, count: int, addr: int) -> str:
    disas = getattr(cpu, "disassemble", None)
    out = []
    for _ in range(count):
        data = read(addr, 4)
        if data is None:
            data = read(addr, 2)
        if data is None:
            out.append(f"0x{addr:016x}: Cannot access memory\n")
            break
        length, text = 4, ""
        if disas is not None:
            got = disas(addr, data)
            if got:
                length, text = got[0]
        else:
            word = int.from_bytes(data, "little")
            length = 2 if (word & 3) != 3 else 4
            text = f".{'half' if length == 2 else 'word'} 0x{word & ((1 << 8 * length) - 1):x}"
        word = int.from_bytes(data[:length], "little")
        out.append(f"0x{addr:016x}:  {word:0{2 * length}x}          {text}\n")
        addr += length
    return "".join(out)
