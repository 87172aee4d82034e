"""RISC-V (RV64GC) guest ISA: decoder tables, translator, CPU state."""
