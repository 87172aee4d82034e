"""The schema: every command implemented once, QEMU's validation wording, introspection."""
from __future__ import annotations

import pytest

from pemu.monitor import commands, schema
from pemu.monitor.errors import QmpError


def test_every_declared_command_is_implemented():
    assert set(commands.IMPLS) == {c.name for c in schema.COMMANDS}


def test_issue_minimum_is_declared():
    for name in ("qmp_capabilities", "query-version", "query-status", "query-commands",
                 "query-qmp-schema", "query-name", "query-cpus-fast", "query-machines",
                 "query-chardev", "query-block", "stop", "cont", "system_reset",
                 "system_powerdown", "quit", "human-monitor-command", "memsave", "pmemsave"):
        assert name in schema.BY_NAME


@pytest.mark.parametrize("args, message", [
    ({}, "Parameter 'val' is missing"),
    ({"val": "x", "size": 1, "filename": "f"},
     "Invalid parameter type for 'val', expected: integer"),
    ({"val": True, "size": 1, "filename": "f"},
     "Invalid parameter type for 'val', expected: integer"),
    ({"val": 1, "size": 2 ** 70, "filename": "f"},
     "Invalid parameter type for 'size', expected: integer"),
    ({"val": 1, "size": 1, "filename": 3},
     "Invalid parameter type for 'filename', expected: string"),
    ({"val": 1, "size": 1, "filename": "f", "x": 1}, "Parameter 'x' is unexpected"),
])
def test_validation_wording(args, message):
    with pytest.raises(QmpError) as e:
        schema.validate(schema.BY_NAME["memsave"], args)
    assert e.value.desc == message and e.value.cls == "GenericError"


def test_list_and_enum_validation():
    cmd = schema.BY_NAME["qmp_capabilities"]
    schema.validate(cmd, {"enable": ["oob"]})
    with pytest.raises(QmpError, match="expected: array"):
        schema.validate(cmd, {"enable": "oob"})
    with pytest.raises(QmpError, match=r"'enable\[0\]', expected: string"):
        schema.validate(cmd, {"enable": [1]})
    with pytest.raises(QmpError, match="does not accept value 'foo'"):
        schema.validate(cmd, {"enable": ["foo"]})


def test_introspection_is_closed():
    info = schema.introspect()
    names = {i["name"] for i in info}
    for i in info:
        for key in ("arg-type", "ret-type", "element-type"):
            if key in i:
                assert i[key] in names, (i["name"], key, i[key])
        for m in i.get("members", []):
            if "type" in m:
                assert m["type"] in names
    commands_ = {i["name"] for i in info if i["meta-type"] == "command"}
    assert commands_ == {c.name for c in schema.COMMANDS}
    assert {i["name"] for i in info if i["meta-type"] == "event"} >= {"STOP", "RESUME",
                                                                      "SHUTDOWN", "RESET"}
