"""RISC-V boards."""
