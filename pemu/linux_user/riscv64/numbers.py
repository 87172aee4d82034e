"""riscv64 Linux system call numbers: the generic table and riscv64's own.

Generated once from its sysroot's <asm/unistd.h>; data, not code.
"""

from pemu.linux_user.generic_numbers import GENERIC

NUMBERS: dict[int, str] = {**GENERIC, **{
    84: "sync_file_range2",
    259: "riscv_flush_icache",
}}
