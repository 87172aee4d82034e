"""The Arm A64 (AArch64) guest ISA: decode tables, frontend and CPU state."""
