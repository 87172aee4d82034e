"""Run the fake machine with pemu's char options, like pemu-system-* would.

    python tests/unit/monitor/fake_vm.py [-S] [-nographic] [-qmp ...] [-monitor ...]

Used by the monitor tests before a real board exists; exits with the
machine's exit status, and prints option errors as the CLI does.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_machine import FakeMachine

from pemu.cli.char_options import apply_char_options
from pemu.cli.options import OptionError, die, parse_argv


def main(argv: list[str]) -> int:
    try:
        opts = parse_argv(argv)
        machine = FakeMachine(name=opts.get("name") or "")
        serial = apply_char_options(machine, opts, opts.has("nographic"))
    except OptionError as e:
        die("fake_vm", str(e))
    if serial is not None:
        # An echoing "guest" console: what it receives it writes back, upper-cased.
        serial.attach(lambda data: serial.write(data.upper()))
    if not opts.has("S"):
        machine.loop.set_runstate("running")
    return machine.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
