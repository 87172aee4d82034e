"""aarch64 Linux system call numbers: the generic table, renameat (38), and
sync_file_range under its own name (84).

Generated once from its sysroot's <asm/unistd.h>; data, not code.
"""

from pemu.linux_user.generic_numbers import GENERIC

NUMBERS: dict[int, str] = {**GENERIC, **{
    38: "renameat",
    84: "sync_file_range",
}}
