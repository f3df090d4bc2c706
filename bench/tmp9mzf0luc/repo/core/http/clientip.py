"""Who is calling: the client IP and scheme, trusting forwarding headers only from known proxies.

mia.js took the first ``X-Forwarded-For`` entry from anyone, so a client could claim any address
and walk past CIDR allow-lists (generic spec §0.4, §10.1). Here ``X-Forwarded-For`` and
``X-Forwarded-Proto`` count only when the socket peer is listed in the environment's
``trustedProxies`` (IPs or CIDRs). IPv4-mapped IPv6 addresses (``::ffff:a.b.c.d``) are turned into
plain IPv4 first, so IPv4 CIDRs match them.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_ip(value: Any) -> Address | None:
    """An address object for ``value`` (mapped IPv6 -> IPv4, brackets/zone/port-less), or None."""
    if not isinstance(value, str):
        return None
    return _parse_ip_text(value)


@lru_cache(maxsize=4096)  # every request parses its peer address: clients repeat, parsing is not free
def _parse_ip_text(value: str) -> Address | None:
    text = value.strip().strip("[]")
    if "%" in text:  # an IPv6 zone id (fe80::1%eth0) says nothing about who the peer is
        text = text.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=4096)
def _peer_text(value: str) -> str | None:
    address = _parse_ip_text(value)
    return None if address is None else str(address)


def normalise_ip(value: Any) -> str | None:
    """The canonical text of an address (``::ffff:10.0.0.1`` -> ``10.0.0.1``), or None if not an IP."""
    address = parse_ip(value)
    return None if address is None else str(address)


def parse_network(value: str) -> Network:
    """A network from ``a.b.c.d/n``, an IPv6 CIDR or a bare address (a /32 or /128); raises ValueError.

    An IPv4-mapped IPv6 network (``::ffff:10.0.0.0/104``, ``::ffff:0:0/96``) stays an IPv6 network;
    :func:`contains` matches IPv4 clients against it through their mapped form, so it covers
    exactly the IPv4 addresses it names and never "everyone".
    """
    text = str(value)
    try:
        return _parse_network_text(text)
    except ValueError:
        raise ValueError(f"not an IP address or CIDR: {value!r}") from None


@lru_cache(maxsize=1024)  # every static-key request checks its device's lists: the same few CIDRs
def _parse_network_text(value: str) -> Network:
    text = value.strip()
    host, slash, bits = text.partition("/")
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host = host.split("%", 1)[0]  # an IPv6 zone id does not change which addresses are meant
    try:
        address = ipaddress.ip_address(host)
        return ipaddress.ip_network(f"{address}/{bits.strip()}" if slash else str(address), strict=False)
    except ValueError:
        raise ValueError(f"not an IP address or CIDR: {value!r}") from None


def contains(network: Network, address: Address) -> bool:
    """``address`` lies in ``network``; an IPv4 address also matches an IPv6 network through ``::ffff:a.b.c.d``."""
    if address.version == network.version:
        return address in network
    if address.version == 4:
        return ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + address.packed) in network
    return False


def in_networks(ip: Any, cidrs: Iterable[Any]) -> bool:
    """True when ``ip`` lies in any of ``cidrs``.

    A prefix length of 0 (``0.0.0.0/0``, ``::/0``) matches every address of either family, as
    mia.js's ``0.0.0.0/0`` did, so "everyone" stays everyone for IPv6 clients. A malformed CIDR
    raises ValueError: a broken allow- or block-list must fail closed, never silently.
    """
    address = parse_ip(ip)
    for cidr in [cidrs] if isinstance(cidrs, str) else cidrs or ():  # one CIDR given as a plain string
        network = parse_network(cidr)
        if network.prefixlen == 0:
            return True
        if address is not None and contains(network, address):
            return True
    return False


def host_network(ip: Any) -> str | None:
    """``ip`` as a single-address CIDR (``1.2.3.4/32``, ``::1/128``), for per-IP session locks."""
    address = parse_ip(ip)
    if address is None:
        return None
    return f"{address}/{address.max_prefixlen}"


def forwarded_hop(value: str) -> Address | None:
    """One ``X-Forwarded-For`` entry: an address, also with a port as some proxies write it
    (``203.0.113.7:51234``, ``[2001:db8::7]:443``); None for anything else."""
    text = value.strip()
    address = parse_ip(text)
    if address is not None:
        return address
    host, port = None, ""
    if text.startswith("[") and "]:" in text:
        host, _, port = text[1:].partition("]:")
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    return parse_ip(host) if host and port.isdigit() else None


def _trusted(value: Any) -> list[Network]:
    entries = [value] if isinstance(value, str) else list(value or [])
    return [parse_network(entry) for entry in entries]


def resolver(environment: dict[str, Any]) -> Callable[[Any], tuple[str | None, str]]:
    """Build ``req -> (client_ip, scheme)`` once from ``environment["trustedProxies"]``.

    With no trusted proxies the socket peer and the WSGI scheme are the truth. When the peer is a
    trusted proxy, ``X-Forwarded-For`` is read right to left, skipping further trusted proxies, and
    the first untrusted hop is the client; ``X-Forwarded-Proto`` (first value, http/https) gives
    the scheme.
    """
    proxies = _trusted(environment.get("trustedProxies"))

    def is_trusted(address: Address | None) -> bool:
        return address is not None and any(contains(n, address) for n in proxies)

    def resolve(req: Any) -> tuple[str | None, str]:
        scheme = (req.scheme or "http").lower()
        remote = req.remote_addr
        if not proxies:  # the common case: the socket peer, its text cached per address
            return ((_peer_text(remote) if isinstance(remote, str) else None) or remote), scheme
        peer = parse_ip(remote)
        if not is_trusted(peer):
            return (str(peer) if peer is not None else remote), scheme
        client = peer
        forwarded = req.headers.get("X-Forwarded-For")
        if forwarded:
            hops = [forwarded_hop(part) for part in forwarded.split(",")]
            for hop in reversed(hops):
                if hop is None:  # garbage in the chain: stop at the last hop we could trust
                    break
                client = hop
                if not is_trusted(hop):
                    break
        proto = (req.headers.get("X-Forwarded-Proto") or "").split(",")[0].strip().lower()
        if proto in ("http", "https"):
            scheme = proto
        return str(client), scheme

    return resolve
