"""Linux user-mode emulation (pemu-riscv64)."""
