"""The human monitor (HMP): QEMU's command syntax over the same commands as QMP.

`HmpSession` parses and runs one command line and returns its output (as
QEMU, every '\\n' goes out as '\\r\\n'); it keeps what QEMU keeps per
monitor: the current CPU, the last /FMT defaults and the history.
`HmpMonitor` puts a session on a chardev with line editing, the banner and
the "(qemu) " prompt; on a mux its output waits while another front end
has the focus, and it redraws the prompt when it gets the focus back.
`add_monitor()` is the entry point for the CLI and the Python API.
"""
from __future__ import annotations

from typing import Any

from pemu.chardev.base import Chardev
from pemu.chardev.mux import MuxChardev
from pemu.monitor import hmp_commands as table
from pemu.monitor.errors import QmpError
from pemu.monitor.hmp_args import (
    Cursor,
    ExprParser,
    FormatDefaults,
    HmpError,
    parse_format,
    parse_string,
)
from pemu.monitor.readline import LineEditor
from pemu.monitor.version import version_string

PROMPT = "(qemu) "


class HmpSession:
    """Parses and runs HMP command lines against a machine."""

    def __init__(self, machine: Any) -> None:
        self.machine = machine
        self.cpu_index: int | None = None
        self.fmt_defaults = FormatDefaults()
        self.history: list[str] = []

    def current_cpu(self) -> Any:
        cpus = self.machine.cpus
        for cpu in cpus:
            if cpu.index == self.cpu_index:
                return cpu
        return cpus[0] if cpus else None

    # --- running --------------------------------------------------------------------
    def run_captured(self, line: str, cpu_index: int | None = None) -> str:
        """Run one line, return its output with '\\r\\n' line ends (human-monitor-command)."""
        saved = self.cpu_index
        if cpu_index is not None:
            self.cpu_index = cpu_index
        try:
            text = self.run(line)
        finally:
            if cpu_index is not None:
                self.cpu_index = saved
        return text.replace("\r\n", "\n").replace("\n", "\r\n")

    def run(self, line: str) -> str:
        """Run one command line; returns the text QEMU would print ('\\n' line ends)."""
        cur = Cursor(line)
        cur.skip_space()
        start = cur.pos
        while not cur.at_end() and not cur.peek().isspace():
            cur.pos += 1
        name = line[start:cur.pos]
        if not name:
            return ""
        cmd = table.find(table.TOP_COMMANDS, name)
        if cmd is None:
            return f"unknown command: '{name}'\n"
        if cmd.name == "info":
            # 'info' takes its subcommand's arguments from the rest of the line.
            item = parse_string(cur)
            if item is None:
                return self.help_text("info")
            sub = table.find(table.INFO_COMMANDS, item)
            if sub is None:
                return f"unknown command: 'info {item}'\n"
            return self._invoke(sub, cur, f"info {item}")
        return self._invoke(cmd, cur, name)

    def _invoke(self, cmd: table.HmpCommand, cur: Cursor, shown: str) -> str:
        try:
            args = self._parse_args(cmd, cur)
        except HmpError as e:
            usage = f'Try "help {shown}" for more information\n' if e.usage else ""
            return f"{e}\n{usage}"
        try:
            return cmd.handler(self, args) or ""
        except QmpError as e:
            return f"Error: {e.desc}\n"
        except Exception as e:  # noqa: BLE001 (a bug in one command must not end the session)
            return f"Error: {type(e).__name__}: {e}\n"

    def _register(self, name: str) -> int | None:
        cpu = self.current_cpu()
        if cpu is None:
            return None
        getter = getattr(cpu, "get_register", None)
        if getter is not None:
            try:
                return getter(name)
            except (KeyError, ValueError):
                return None
        return cpu.pc if name == "pc" else None

    def _parse_args(self, cmd: table.HmpCommand, cur: Cursor) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for spec in filter(None, cmd.args_type.split(",")):
            key, _, kind = spec.partition(":")
            optional = kind.endswith("?")
            kind = kind.rstrip("?")
            cur.skip_space()
            if kind == "/":
                args[key] = parse_format(cur, self.fmt_defaults)
            elif kind in ("l", "i"):
                if optional and cur.at_end():
                    continue
                val = ExprParser(cur, self._register).parse()
                if kind == "i":
                    if val >> 32 and val >> 32 != 0xFFFFFFFF:
                        raise HmpError("integer is for 32-bit values")
                    val &= 0xFFFFFFFF
                    if val >= 1 << 31:
                        val -= 1 << 32
                args[key] = val
            elif kind == "s":
                val = parse_string(cur)
                if val is None:
                    if optional:
                        continue
                    raise HmpError(f"{cmd.name}: string expected")
                args[key] = val
            elif kind == "S":
                rest = cur.text[cur.pos:].strip()
                cur.pos = len(cur.text)
                if rest or not optional:
                    args[key] = rest
            elif kind.startswith("-") and cur.text.startswith(kind, cur.pos) and (
                    cur.pos + len(kind) == len(cur.text)
                    or cur.text[cur.pos + len(kind)].isspace()):
                cur.pos += len(kind)
                args[key] = True
        cur.skip_space()
        if not cur.at_end():
            raise HmpError(f"{cmd.name}: extraneous characters at the end of line")
        return args

    # --- help ------------------------------------------------------------------------
    def help_text(self, name: str | None) -> str:
        def line(prefix: str, c: table.HmpCommand) -> str:
            return f"{prefix}{'|'.join(c.names)} {c.params} -- {c.help}\n"
        if not name:
            return "".join(line("", c) for c in table.TOP_COMMANDS)
        words = name.split()
        if words[0] == "info":
            subs = table.INFO_COMMANDS
            if len(words) > 1:
                c = table.find(subs, words[1])
                if c is None:
                    return f"unknown command: 'info {words[1]}'\n"
                subs = [c]
            return "".join(line("info ", c) for c in subs)
        c = table.find(table.TOP_COMMANDS, words[0])
        if c is None:
            return f"unknown command: '{name}'\n"
        return line("", c)

    def complete(self, head: str) -> list[str]:
        words = head.split(" ")
        if len(words) == 1:
            names = [n for c in table.TOP_COMMANDS for n in c.names]
            return sorted(n for n in names if n.startswith(words[0]))
        if len(words) == 2 and words[0] == "info":
            return sorted(c.name for c in table.INFO_COMMANDS if c.name.startswith(words[1]))
        return []


class HmpMonitor:
    """An HMP session on a chardev, with readline editing, banner and prompt."""

    def __init__(self, machine: Any, chardev: Chardev) -> None:
        self.machine = machine
        self.chardev = chardev
        self.session = HmpSession(machine)
        self.editor = LineEditor(PROMPT, self.session.complete)
        self.session.history = self.editor.history
        self.focused = not isinstance(chardev, MuxChardev)
        self._held: list[str] = []
        chardev.attach(self._receive, None, self._on_chr_event)

    def _out(self, text: str) -> None:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
        if self.focused:
            self.chardev.write(text.encode())
        else:
            self._held.append(text)

    def _on_chr_event(self, event: str) -> None:
        if event == "opened":
            self.editor.reset()
            self._held.clear()
            self._out(f"pemu {version_string()} monitor - type 'help' for more information\n")
            self._out(PROMPT)
        elif event == "mux-in":
            self.focused = True
            if self._held:
                held, self._held = "".join(self._held), []
                self.chardev.write(held.encode())
            else:
                self.editor.reset()
                self._out(PROMPT)
        elif event == "mux-out":
            if self.focused:
                self._out("\n")
            self.focused = False

    def _receive(self, data: bytes) -> None:
        echo, lines = self.editor.feed(data)
        if echo:
            self._out(echo)
        for line in lines:
            self._out(self.execute(line))
            self._out(PROMPT)

    def execute(self, line: str) -> str:
        return self.session.run(line)


def add_monitor(machine: Any, chardev: Chardev, mode: str = "readline",
                pretty: bool = False) -> Any:
    """Start a monitor on `chardev`: mode "control" is QMP, "readline" is HMP."""
    if mode == "control":
        from pemu.monitor.qmp import QmpMonitor
        return QmpMonitor(machine, chardev, pretty)
    if mode == "readline":
        return HmpMonitor(machine, chardev)
    raise ValueError(f"Parameter 'mode' does not accept value '{mode}'")
