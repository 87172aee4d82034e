"""Miscellaneous devices (test finishers, ...)."""
