"""egress decides which URLs the platform may call on an admin's say-so (provider base URLs).

A provider's ``base_url`` is stored by an admin and then called by the platform with a
secret API key in the headers, so it is an exfiltration path if it may point anywhere
(issue 9: ``Bearer <value of HOME>`` sent to a local listener). A URL is refused when:

* it carries credentials (``user:pass@``), or is not ``http``/``https``;
* its host is a cloud metadata name (``metadata.google.internal`` ...) or address
  (``169.254.169.254``, any link-local, multicast, unspecified or reserved address);
* its host is a number in another spelling (``2130706433``, ``0x7f.1``, ``0177.0.0.1``),
  which resolvers read as an address no check above would see;
* its host is loopback (``127.0.0.0/8``, ``::1``, ``localhost``), except in development,
  where local fakes of the vendors' APIs are the point.

Private addresses stay allowed: an in-cluster gateway to a model vendor is legitimate.
``check_resolved`` applies the same rules to the addresses a name resolves to, right
before a call, so a DNS name cannot smuggle in what a literal could not.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from urllib.parse import urlsplit

METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_NUMERIC_LABELS = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+))*\.?$")
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(ValueError):
    """The URL may not be called; the message says why (never echoes credentials)."""


def check_url(url: str, *, allow_loopback: bool) -> str:
    """``url`` if the platform may send secrets to it (see the module docstring).

    Raises:
        Refused: it may not.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Refused("must be an http(s) URL")
    if "@" in parts.netloc:
        raise Refused("must not carry credentials (user:pass@)")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise Refused("must name a host")
    if host in METADATA_NAMES:
        raise Refused("must not point at a cloud metadata service")
    if host == "localhost" or host.endswith(".localhost"):
        if not allow_loopback:
            raise Refused("must not point at loopback outside development")
        return url
    try:
        address: _Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
        if _NUMERIC_LABELS.match(host):
            raise Refused("must write an IP address in its canonical form") from None
    if address is not None:
        _check_address(address, allow_loopback=allow_loopback)
    return url


def _check_address(address: _Address, *, allow_loopback: bool) -> None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_link_local or address.is_multicast or address.is_unspecified:
        raise Refused("must not point at a link-local, multicast or unspecified address")
    if address.is_reserved:
        raise Refused("must not point at a reserved address")
    if address.is_loopback and not allow_loopback:
        raise Refused("must not point at loopback outside development")


async def check_resolved(url: str, *, allow_loopback: bool) -> None:
    """Apply the address rules to every address the URL's host resolves to.

    Raises:
        Refused: one of them may not be called (or the host does not resolve).
    """
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        raise Refused(f"host '{host}' does not resolve") from None
    for info in infos:
        _check_address(ipaddress.ip_address(info[4][0]), allow_loopback=allow_loopback)
