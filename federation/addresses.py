"""Which network addresses the federation client may connect to (SSRF policy).

Peers choose the URLs we fetch (actor ids, inboxes, redirect targets), so
without this policy any remote server could make us probe our own LAN, cloud
metadata endpoints or loopback admin ports. The table mirrors Mastodon's
`private_address_check.rb` so that operators get the behaviour they already
know, and it is written out explicitly rather than delegated to
`ipaddress.is_global`, whose ranges have changed between Python patch releases.
"""

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from federation.errors import FederationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_REFUSED_V4 = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
        "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24",
        "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
        "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    )
)
_REFUSED_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
        "2001::/32", "2001:10::/28", "2001:20::/28", "2001:db8::/32",
        "2002::/16", "3fff::/20", "fc00::/7", "fe80::/10", "fec0::/10",
        "ff00::/8",
    )
)
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")

# What a developer's "insecure" instance legitimately talks to: peers on the
# same machine, LAN, container network or CGNAT overlay (e.g. Tailscale).
# Link-local stays refused even then: it is where cloud metadata lives.
_PRIVATE_PEERS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
        "100.64.0.0/10", "::1/128", "fc00::/7",
    )
)


class UnsafeAddress(FederationError):
    """A URL we refuse to connect to; retrying can never make it safe."""

    code = "unsafe_address"
    transient = False
    status = None


def _unwrap(ip: IPAddress) -> IPAddress:
    """Judge IPv4 tunnelled in IPv6 as the IPv4 address it really reaches."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip))
    return ip


def literal_ip(host: str) -> IPAddress | None:
    """The IP a URL host names literally; such hosts never reach the resolver."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def http_url(text: str) -> SplitResult | None:
    """`text` split as an http(s) URL with a host, or None when it is not one.

    Every URL a person or a peer hands us is read here first. urllib raises
    ValueError on some (`http://[::1`, an IPv6 literal that is not one, a host
    that changes under NFKC), and silently drops tabs and line breaks, so what
    was checked would differ from what is sent on (a CRLF in a `Location`
    header); a URL holding any unprintable character is therefore no URL.
    """
    if not text.isprintable():
        return None
    try:
        parts = urlsplit(text)
        host, _port = parts.hostname, parts.port
    except ValueError:
        return None
    return parts if parts.scheme in ("http", "https") and host else None


def is_public_address(ip: IPAddress) -> bool:
    """True when `ip` is a globally routable unicast address."""
    ip = _unwrap(ip)
    table = _REFUSED_V4 if isinstance(ip, ipaddress.IPv4Address) else _REFUSED_V6
    return not any(ip in net for net in table)


@dataclass(frozen=True)
class AddressPolicy:
    """The SSRF decision for one client.

    `allow_private` is the instance's dev setting "insecure". `allowed_addresses`
    lets exact addresses through even when private (Mastodon's
    ALLOWED_PRIVATE_ADDRESSES), e.g. a relay on the operator's own LAN.
    """

    allow_private: bool = False
    allowed_addresses: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        canonical = frozenset(str(ipaddress.ip_address(a)) for a in self.allowed_addresses)
        object.__setattr__(self, "allowed_addresses", canonical)

    def allows(self, ip: IPAddress) -> bool:
        """Whether a connection to `ip` is acceptable under this policy."""
        if is_public_address(ip) or str(ip) in self.allowed_addresses:
            return True
        return self.allow_private and any(_unwrap(ip) in net for net in _PRIVATE_PEERS)

    def check(self, ip: IPAddress) -> None:
        """Raise UnsafeAddress unless the policy allows `ip`."""
        if not self.allows(ip):
            raise UnsafeAddress("refusing to connect to a non-public address")

