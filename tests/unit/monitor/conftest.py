"""Shared fixtures: the fake machine and a chardev that records what a monitor writes."""
from __future__ import annotations

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_machine import FakeMachine  # noqa: E402

from pemu.chardev.base import Chardev  # noqa: E402


class Recorder(Chardev):
    """A back end that keeps the front end's output."""

    def __init__(self) -> None:
        super().__init__("rec")
        self.out = bytearray()

    def write(self, data: bytes) -> None:
        self.out += data

    def take(self) -> bytes:
        data, self.out = bytes(self.out), bytearray()
        return data

    def messages(self) -> list[dict]:
        return [json.loads(line) for line in self.take().decode().splitlines() if line]


@pytest.fixture
def machine():
    return FakeMachine(name="")


@pytest.fixture
def recorder():
    return Recorder()


def run_loop_once(machine) -> None:
    """Let the loop process pending requests, bottom halves and due timers."""
    loop = machine.loop
    for _ in range(3):
        if loop._requests:
            loop._process_requests()
        while loop._bhs:
            loop._bhs.popleft()()
        loop.clock.run_timers()
