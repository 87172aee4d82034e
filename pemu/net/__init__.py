"""Networking: the links between NICs and netdev back ends (QEMU's net/).

- `client.py`: `NetClient`, one end of a link, and the packet queue between
  two peers (flow control when a receiver has no room: packets wait, they
  are not dropped inside pemu).
- `hub.py`: hubs and hub ports (`-net`, `hubport`).
- `user.py` over `libslirp.py`: NAT through Debian's libslirp0 (`-netdev user`).
- `socket_netdev.py`: `-netdev socket` (stream with QEMU's length framing, mcast, udp).
- `tap.py`: `-netdev tap` (a host TAP interface).
- `filter_dump.py`: `-object filter-dump`, a pcap of what crosses a netdev.
- `netdev_options.py`: QEMU's back-end options -> a client (command line and monitor).
- `network.py`: a machine's clients as the monitor sees them (`machine.net`).
"""
