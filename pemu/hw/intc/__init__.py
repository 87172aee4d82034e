"""Interrupt controllers and core-local interruptors (PLIC, ACLINT)."""
