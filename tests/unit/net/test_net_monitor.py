"""Network options on the real virt board, seen through the monitor.

The `info network` texts are what qemu-system-riscv64 7.2 prints for the same
command lines (QEMU shows a NIC it creates; for `-net nic` on riscv virt it
creates none, so that case is checked only for pemu's hub layout).
"""
from __future__ import annotations

import pytest

from pemu.cli.net_options import apply_net_options
from pemu.cli.options import parse_argv
from pemu.monitor import commands
from pemu.monitor.errors import QmpError
from pemu.monitor.hmp import HmpSession
from pemu.net import libslirp

needs_slirp = pytest.mark.skipif(libslirp.load() is None, reason=libslirp.load_error())


def machine_with(argv: list[str]):
    from pemu.hw.riscv.virt import VirtMachine
    m = VirtMachine(native=False)
    apply_net_options(m, parse_argv(argv))
    return m


@needs_slirp
def test_info_network_like_qemu_and_virtio_slots():
    m = machine_with(["-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0",
                      "-device", "virtio-net-device,netdev=n1", "-netdev", "user,id=n1"])
    try:
        assert HmpSession(m).run("info network") == (
            "virtio-net-device.0: index=0,type=nic,model=virtio-net-device,"
            "macaddr=52:54:00:12:34:56\n"
            " \\ n0: index=0,type=user,net=10.0.2.0,restrict=off\n"
            "virtio-net-device.1: index=0,type=nic,model=virtio-net-device,"
            "macaddr=52:54:00:12:34:57\n"
            " \\ n1: index=0,type=user,net=10.0.2.0,restrict=off\n")
        # QEMU fills virtio-mmio slots from the top: bus 7 then bus 6
        assert m.virtio[7].backend is m.net.nics[0] and m.virtio[6].backend is m.net.nics[1]
    finally:
        m.net.cleanup()


@needs_slirp
def test_legacy_net_options_make_hub_0():
    m = machine_with(["-net", "nic,macaddr=52:54:00:00:00:09", "-net", "user,restrict=on"])
    try:
        assert HmpSession(m).run("info network") == (
            "hub 0\n"
            " \\ hub0port1: #net0: index=0,type=user,net=10.0.2.0,restrict=on\n"
            " \\ hub0port0: virtio-net-device.0: index=0,type=nic,model=virtio-net-device,"
            "macaddr=52:54:00:00:00:09\n")
    finally:
        m.net.cleanup()


def test_set_link_reaches_the_guest_visible_status():
    m = machine_with(["-netdev", "hubport,id=h0,hubid=1",
                      "-device", "virtio-net-device,netdev=h0,id=nic0"])
    dev = m.net.nics[0]
    status = dev.config[6]
    assert status == 1
    commands.execute(m, "set_link", {"name": "nic0", "up": False})
    assert dev.config[6] == 0
    assert "[link=down]" in HmpSession(m).run("info network")
    assert HmpSession(m).run("set_link nic0 on") == ""
    assert dev.config[6] == 1
    with pytest.raises(QmpError, match="Device 'nope' not found"):
        commands.execute(m, "set_link", {"name": "nope", "up": True})
    (rx,) = commands.execute(m, "query-rx-filter", {"name": "nic0"})
    assert rx["name"] == "nic0" and rx["promiscuous"] is True
    assert rx["main-mac"] == "52:54:00:12:34:56" and rx["multicast"] == "normal"
    with pytest.raises(QmpError, match="isn't a NIC"):
        commands.execute(m, "query-rx-filter", {"name": "h0"})


@needs_slirp
def test_hostfwd_add_and_remove_from_hmp():
    import socket
    m = machine_with(["-nic", "user"])
    hmp = HmpSession(m)
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        assert hmp.run(f"hostfwd_add tcp::{port}-:22") == ""
        usernet = hmp.run("info usernet")
        assert usernet.startswith("Hub -1 (__org.qemu.nic0):\n  Protocol[State]    FD  Source")
        assert "TCP[HOST_FORWARD]" in usernet and f"127.0.0.1 {port:5d}" in usernet
        assert hmp.run(f"hostfwd_add tcp::{port}-:22") == (
            f"could not set up host forwarding rule 'tcp::{port}-:22'\n")
        assert hmp.run(f"hostfwd_remove tcp::{port}") == (
            f"host forwarding rule for tcp::{port} removed\n")
        assert hmp.run("hostfwd_add nosuch tcp::1-:2") == "unknown netdev: 'nosuch'\n"
        assert "Invalid host forwarding rule" in hmp.run("hostfwd_add sctp::1-:2")
    finally:
        m.net.cleanup()


@pytest.mark.parametrize("argv, message", [
    (["-netdev", "user"], "Parameter 'id' is missing"),
    (["-netdev", "user,id=a", "-netdev", "hubport,id=a,hubid=0"], "Duplicate ID 'a'"),
    (["-netdev", "user,id=a,guestfwd=tcp:10.0.2.100:1-chardev0"], "guestfwd to a chardev"),
    (["-netdev", "user,id=a,guestfwd=tcp:10.9.9.9:1-cmd:x"], "not in the network"),
    (["-netdev", "user,id=a,smb=/tmp"], "'smb' is not supported"),
    (["-netdev", "user,id=a,net=10.0.2.1/24"], "Invalid network"),
    (["-netdev", "user,id=a,dhcpstart=10.9.9.9"], "not in the network"),
    (["-netdev", "user,id=a,hostfwd=tcp::1"], "Missing - separator"),
    (["-netdev", "tap,id=a,vhost=on"], "tap netdev option 'vhost' is not supported"),
    (["-net", "hubport,hubid=0"], "'hubport' is only supported with -netdev/-nic"),
    (["-netdev", "vde,id=a"], "netdev type 'vde' is not supported by this build"),
    (["-netdev", "nosuch,id=a"], "expects a netdev backend type"),
    (["-nic", "user,model=e1000"], "NIC model 'e1000' is not supported"),
    (["-netdev", "hubport,id=h,hubid=0", "-device", "virtio-net-device,netdev=h",
      "-device", "virtio-net-device,netdev=h"], "it's in use"),
    (["-device", "virtio-net-device,mac=1:2"], "doesn't take value '1:2'"),
    (["-device", "virtio-net-device,speed=10"], "Property 'virtio-net-device.speed' not found"),
    (["-object", "filter-dump,id=f,netdev=x,file=/tmp/x"], "can't find value 'x'"),
    (["-object", "memory-backend-ram,id=m,size=1M"], "only filter-dump"),
    (["-netdev", "hubport,id=h,hubid=0", "-object",
      "filter-dump,id=f,netdev=h,file=/nonexistent/dir/x.pcap"], "can't open file"),
])
def test_bad_network_options_are_one_line_errors(argv, message):
    if "user" in argv[1] and libslirp.load() is None:
        pytest.skip(libslirp.load_error())
    from pemu.hw.riscv.virt import VirtMachine
    m = VirtMachine(native=False)
    with pytest.raises(ValueError, match=message) as e:
        apply_net_options(m, parse_argv(argv))
    assert "\n" not in str(e.value)


@needs_slirp
def test_netdev_add_and_del_from_qmp_and_hmp():
    import socket

    from pemu.monitor import schema
    m = machine_with(["-netdev", "hubport,id=h0,hubid=1", "-device",
                      "virtio-net-device,netdev=h0"])
    hmp = HmpSession(m)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = {"type": "user", "id": "u1", "restrict": True,
            "hostfwd": [{"str": f"tcp::{port}-:22"}]}
    schema.validate(schema.BY_NAME["netdev_add"], args)
    commands.execute(m, "netdev_add", args)
    try:
        assert "u1: index=0,type=user,net=10.0.2.0,restrict=on\n" in hmp.run("info network")
        assert f"127.0.0.1 {port:5d}" in m.net.netdevs["u1"].connection_info()
        with pytest.raises(QmpError, match="Duplicate ID 'u1'"):
            commands.execute(m, "netdev_add", {"type": "user", "id": "u1"})
        assert hmp.run("netdev_add hubport,id=h2,hubid=2") == ""
        assert "h2" in m.net.netdevs
        assert hmp.run("netdev_add vde,id=v") == (
            "netdev type 'vde' is not supported by this build\n")
        commands.execute(m, "netdev_del", {"id": "u1"})
        assert "u1" not in hmp.run("info network")
        with socket.socket() as s:  # the host forward's port is free again
            s.bind(("127.0.0.1", port))
        hmp.run("netdev_del h0")
        assert m.net.nics[0].nic.peer is None
        with pytest.raises(QmpError, match="Device 'u1' not found"):
            commands.execute(m, "netdev_del", {"id": "u1"})
    finally:
        m.net.cleanup()
