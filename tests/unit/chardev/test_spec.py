"""Parsing -chardev and the -serial/-monitor shorthand, with QEMU's error wording."""
from __future__ import annotations

import pytest

from pemu.chardev import parse_spec
from pemu.chardev.spec import parse_chardev


@pytest.mark.parametrize("spec, expected", [
    ("stdio", {"backend": "stdio", "id": "c"}),
    ("mon:stdio", {"backend": "stdio", "id": "c", "mux": True, "signal": False}),
    ("unix:/tmp/m.sock,server,nowait",
     {"backend": "socket", "id": "c", "path": "/tmp/m.sock", "server": True, "wait": False}),
    ("tcp:127.0.0.1:4444,server=on,wait=off",
     {"backend": "socket", "id": "c", "host": "127.0.0.1", "port": "4444", "server": True,
      "wait": False}),
    ("tcp::4444,server", {"backend": "socket", "id": "c", "host": "", "port": "4444",
                          "server": True}),
    ("null", {"backend": "null", "id": "c"}),
    ("file:/tmp/out.txt", {"backend": "file", "id": "c", "path": "/tmp/out.txt"}),
    ("pipe:/tmp/p", {"backend": "pipe", "id": "c", "path": "/tmp/p"}),
    ("pty", {"backend": "pty", "id": "c"}),
    ("socket,id=m,path=/p,server=on,wait=off,reconnect=2",
     {"backend": "socket", "id": "m", "path": "/p", "server": True, "wait": False,
      "reconnect": 2}),
    ("stdio,id=s,mux=on,signal=off", {"backend": "stdio", "id": "s", "mux": True,
                                      "signal": False}),
])
def test_parse(spec, expected):
    assert parse_spec(spec, "c") == expected


@pytest.mark.parametrize("spec, message", [
    ("bogus", "'bogus' is not a valid char driver"),
    ("socket,id=x,path=/p,bogus=1", "Invalid parameter 'bogus'"),
    ("socket,id=x,path=/p,server=maybe", "Parameter 'server' expects 'on' or 'off'"),
    ("socket,id=x,host=127.0.0.1", "chardev: socket: no port given"),
    ("file,id=x", "chardev: file: no filename given"),
    ("unix:", "chardev: socket: no host given"),
])
def test_errors(spec, message):
    with pytest.raises(ValueError) as e:
        parse_spec(spec, "c")
    assert str(e.value) == message


def test_chardev_syntax_errors():
    with pytest.raises(ValueError, match="'foo' is not a valid char driver name"):
        parse_chardev("foo,id=x")
    with pytest.raises(ValueError, match="chardev: no id specified"):
        parse_chardev("socket")
