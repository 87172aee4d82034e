"""The monitor: QMP (JSON, for programs) and HMP (text, for people) over chardevs.

Both are syntaxes over one implementation of each command (commands.py),
declared once in schema.py. `add_monitor(machine, chardev, mode)` starts one.
"""
from pemu.monitor.hmp import add_monitor

__all__ = ["add_monitor"]
