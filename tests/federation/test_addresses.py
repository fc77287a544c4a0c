"""The SSRF address policy and the resolver that enforces it."""

import ipaddress
import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from federation.addresses import AddressPolicy, UnsafeAddress, is_public_address
from federation.http_session import PolicyResolver

REFUSED = [
    "127.0.0.1", "::1", "::", "0.0.0.0", "10.0.0.1", "172.16.0.1", "192.168.0.1",
    "169.254.169.254", "100.64.0.1", "198.18.0.1", "224.0.0.1", "240.0.0.1",
    "255.255.255.255", "fc00::1", "fe80::1", "::ffff:127.0.0.1", "::127.0.0.1",
    "64:ff9b::7f00:1", "2001:db8::1", "2002:7f00:1::1", "ff02::1",
]
ALLOWED = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "1.1.1.1", "::ffff:1.1.1.1"]


def test_is_public_address_table() -> None:
    verdicts = {a: is_public_address(ipaddress.ip_address(a)) for a in REFUSED + ALLOWED}
    assert verdicts == {a: a in ALLOWED for a in REFUSED + ALLOWED}


def test_policy_refuses_private_and_reports_code() -> None:
    with pytest.raises(UnsafeAddress) as caught:
        AddressPolicy().check(ipaddress.ip_address("10.1.2.3"))
    assert caught.value.code == "unsafe_address"
    AddressPolicy().check(ipaddress.ip_address("1.1.1.1"))


def test_insecure_policy_allows_local_peers_but_not_metadata() -> None:
    policy = AddressPolicy(allow_private=True)
    assert policy.allows(ipaddress.ip_address("127.0.0.1"))
    assert policy.allows(ipaddress.ip_address("192.168.1.5"))
    assert policy.allows(ipaddress.ip_address("fd00::5"))
    assert not policy.allows(ipaddress.ip_address("169.254.169.254"))
    assert not policy.allows(ipaddress.ip_address("0.0.0.0"))


def test_allowed_addresses_are_exact_and_canonical() -> None:
    policy = AddressPolicy(allowed_addresses=frozenset({"0:0::1", "127.0.0.1"}))
    assert policy.allows(ipaddress.ip_address("::1"))
    assert policy.allows(ipaddress.ip_address("127.0.0.1"))
    assert not policy.allows(ipaddress.ip_address("127.0.0.2"))


class _FixedResolver(AbstractResolver):
    """Plays a DNS server that answers whatever a hostile peer configured."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=a, port=port, family=family, proto=0, flags=0)
            for a in self.addresses
        ]

    async def close(self) -> None:
        pass


async def test_resolver_drops_refused_addresses() -> None:
    inner = _FixedResolver(["10.0.0.1", "93.184.216.34", "::1"])
    results = await PolicyResolver(AddressPolicy(), inner).resolve("peer.example", 443)
    assert [r["host"] for r in results] == ["93.184.216.34"]


async def test_resolver_refuses_when_nothing_is_left() -> None:
    inner = _FixedResolver(["127.0.0.1", "169.254.169.254"])
    with pytest.raises(UnsafeAddress):
        await PolicyResolver(AddressPolicy(), inner).resolve("rebind.example", 443)
