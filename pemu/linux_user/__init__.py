"""Linux user-mode emulation (pemu-riscv64, pemu-aarch64): the shared process,
thread, signal and system call code; each ISA's ABI in linux_user/<arch>/."""
