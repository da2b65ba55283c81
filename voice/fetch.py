"""Fetching URLs chosen by strangers (voice clips) without letting them reach inside the network.

Every TCP connection, on every redirect hop, is checked after it connects and before a byte is sent: the peer
address must be public (not loopback, private, link-local such as 169.254.169.254, CGNAT, unspecified or
multicast; an IPv4-mapped IPv6 address is judged by its IPv4 address). Checking the connected address, not a
resolved name, also defeats DNS rebinding. Only http and https are followed; redirects are followed by hand,
at most `MAX_REDIRECTS`; the body is capped while it streams, and a too-large Content-Length is refused
before reading. requests and urllib3 do the HTTP; this module only adds the checks.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

MAX_REDIRECTS = 5
TIMEOUT_S = (5.0, 30.0)  # connect, and between two reads
TOTAL_TIMEOUT_S = 120.0  # the whole download, so a server trickling bytes cannot hold the worker
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class FetchRefused(Exception):
    """The URL may not be fetched (scheme, address, size); the message says why, for the caller."""


class FetchFailed(Exception):
    """The URL could not be fetched (network error, HTTP status, timeout)."""


@dataclass(frozen=True)
class AddressPolicy:
    """Which connected peers are acceptable. Public unicast only, unless networks are explicitly allowed."""

    allowed_networks: tuple[IPNetwork, ...] = field(default_factory=tuple)

    @classmethod
    def from_setting(cls, value: str | None) -> AddressPolicy:
        """`WORKER_URL_ALLOW_NETWORKS`: comma-separated CIDRs, e.g. a private voice server in your VPC."""
        networks = tuple(ipaddress.ip_network(part.strip()) for part in (value or "").split(",") if part.strip())
        return cls(allowed_networks=networks)

    def refusal(self, address: str) -> str | None:
        """None when `address` may be connected to; otherwise why not."""
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
        if any(ip in network for network in self.allowed_networks):
            return None
        embedded = _embedded_ipv4(ip)
        if embedded is not None:  # IPv6 that carries an IPv4 address reaches that address: judge it
            if any(embedded in network for network in self.allowed_networks):
                return None
            ip = embedded
        if ip.is_loopback:
            return "a loopback address"
        if ip.is_link_local:
            return "a link-local address"
        if ip.is_unspecified:
            return "an unspecified address"
        if ip.is_multicast:
            return "a multicast address"
        if ip in ipaddress.ip_network("100.64.0.0/10"):
            return "a carrier-grade NAT address"
        if ip.is_private or not ip.is_global:
            return "a private or reserved address"
        return None


PUBLIC_ONLY = AddressPolicy()
NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, IPv4-compatible, NAT64, 6to4 or Teredo IPv6 address."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64 or (ip in IPV4_COMPATIBLE and int(ip) > 1):  # "::" and "::1" are not IPv4 addresses
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


class _PeerCheck:
    """Mixed into urllib3's connections: refuse before connecting if any resolved address is refused (an
    unroutable 169.254.169.254 would otherwise only time out), and again on the address actually connected."""

    policy: AddressPolicy
    # Set by urllib3's connection classes, which this is mixed into.
    _dns_host: str
    port: int

    def _new_conn(self) -> socket.socket:
        host = self._dns_host
        try:
            resolved = {str(info[4][0]) for info in socket.getaddrinfo(host, self.port, type=socket.SOCK_STREAM)}
        except socket.gaierror:
            raise FetchFailed(f"names a host, {host!r}, that does not resolve (check its spelling)") from None
        for address in sorted(resolved):
            self._refuse(address)
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]  # the mixin's partner class defines it
        try:
            self._refuse(sock.getpeername()[0])
        except FetchRefused:
            sock.close()
            raise
        return sock

    def _refuse(self, address: str) -> None:
        reason = self.policy.refusal(address)
        if reason is not None:
            raise FetchRefused(f"the URL leads to {reason}, which the worker does not fetch from")


def _adapter(policy: AddressPolicy) -> HTTPAdapter:
    http_connection = type("GuardedHTTPConnection", (_PeerCheck, HTTPConnection), {"policy": policy})
    https_connection = type("GuardedHTTPSConnection", (_PeerCheck, HTTPSConnection), {"policy": policy})
    http_pool = type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_connection})
    https_pool = type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_connection})
    adapter = HTTPAdapter(max_retries=0)
    adapter.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}
    return adapter


def fetch_to_file(url: str, destination: Path, max_bytes: int, policy: AddressPolicy) -> int:
    """Download `url` into `destination`; returns the byte count. Raises FetchRefused or FetchFailed."""
    with requests.Session() as session:
        session.trust_env = False  # no proxies or .netrc from the environment: the check must see the peer
        adapter = _adapter(policy)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            _check_scheme(current)
            try:
                response = session.get(current, stream=True, timeout=TIMEOUT_S, allow_redirects=False)
            except (FetchRefused, FetchFailed):
                raise
            except requests.RequestException as error:
                ours = _ours_in(error)
                if ours is not None:
                    raise ours from None
                raise FetchFailed(f"could not be fetched ({type(error).__name__})") from None
            with response:
                if response.is_redirect:
                    current = urljoin(current, response.headers["Location"])
                    continue
                if response.status_code != 200:
                    raise FetchFailed(f"answered HTTP {response.status_code}")
                return _save(response, destination, max_bytes)
        raise FetchRefused(f"redirects more than {MAX_REDIRECTS} times")


def _check_scheme(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchRefused("must be an http:// or https:// URL")
    if not parts.hostname:
        raise FetchRefused("has no host name")


def _ours_in(error: BaseException) -> FetchRefused | FetchFailed | None:
    """urllib3 wraps errors raised while connecting; find ours in the chain."""
    seen: set[int] = set()
    stack: list[BaseException] = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, FetchRefused | FetchFailed):
            return current
        stack.extend(_causes(current))
    return None


def _causes(error: BaseException) -> Iterable[BaseException]:
    for linked in (error.__cause__, error.__context__, getattr(error, "reason", None)):
        if isinstance(linked, BaseException):
            yield linked
    for argument in getattr(error, "args", ()):
        if isinstance(argument, BaseException):
            yield argument


def _save(response: requests.Response, destination: Path, max_bytes: int) -> int:
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise FetchRefused(f"is {int(declared) // 2**20} MiB; the limit is {max_bytes // 2**20} MiB")
    received = 0
    deadline = time.monotonic() + TOTAL_TIMEOUT_S
    with destination.open("wb") as out:
        try:
            for block in response.iter_content(64 * 1024):
                received += len(block)
                if received > max_bytes:
                    raise FetchRefused(f"sent more than the {max_bytes // 2**20} MiB limit")
                if time.monotonic() > deadline:
                    raise FetchFailed(f"took longer than {TOTAL_TIMEOUT_S:.0f} s to download")
                out.write(block)
        except requests.RequestException as error:
            raise FetchFailed(f"broke off while downloading ({type(error).__name__})") from None
    return received
