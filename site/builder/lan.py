"""`build.py serve --lan`: the lab served to the room's network from a teacher's laptop.

    addresses()        # this machine's IPv4 addresses other devices may reach, the likeliest first
    terminal_qr(url)   # a QR code of ``url`` drawn with text characters, for the terminal

The likeliest address is the one the machine would send from towards another network (its
default route: a UDP socket "connected" to a documentation address sends nothing but picks it); then
every other address of the machine's interfaces (Linux: from the kernel, by ioctl), private
ranges (192.168/16, 10/8, 172.16/12) before the others; never a loopback or link-local one.
"""
from __future__ import annotations

import ipaddress
import socket

WARNING = ("--lan: anyone on the same network can open the lab at these addresses (read-only: the "
           "built site's files and nothing else). Stop with Ctrl-C.")


def _default_route_address():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            # no packet is sent: the kernel only picks a source. A documentation address (TEST-NET-1)
            # follows the default route; a private one might go to a VPN the room cannot reach
            s.connect(("192.0.2.1", 9))
            return s.getsockname()[0]
        except OSError:
            return None


def _interface_addresses():
    """Each interface's IPv4 address (Linux; elsewhere only what the host name resolves to)."""
    found = []
    try:
        import fcntl
        import struct

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _, name in socket.if_nameindex():
                try:
                    packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name[:15].encode()))  # SIOCGIFADDR
                except OSError:  # no IPv4 address on it
                    continue
                found.append(socket.inet_ntoa(packed[20:24]))
    except (ImportError, OSError, AttributeError):
        pass
    try:
        found += [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        pass
    return found


def usable(address):
    """An IPv4 address another device could reach: not loopback, link-local, unspecified or multicast."""
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def rank(first, others):
    """The usable addresses, without repeats: ``first`` (the default route's), then the private
    ones, then the rest, each group in the order given."""
    others = [a for a in others if usable(a)]
    seen, out = set(), []
    candidates = ([first] if first else []) + [a for a in others if ipaddress.IPv4Address(a).is_private] + others
    for a in candidates:
        if a not in seen and usable(a):
            seen.add(a)
            out.append(a)
    return out


def addresses():
    return rank(_default_route_address(), [a for a in _interface_addresses() if usable(a)])


def terminal_qr(url):
    """``url`` as a QR code in text (two rows of modules per line, quiet zone included)."""
    import io

    import segno

    out = io.StringIO()
    segno.make(url, error="m", micro=False).terminal(out=out, compact=True)
    return out.getvalue()
