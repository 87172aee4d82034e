"""The x86 (i386/x86-64) guest: CPU models, CPUID feature tables, register state."""
