"""The SSRF guard and the one outbound HTTP client that uses it.

A webhook URL is ours to call, but its host is the customer's to choose: without a guard it could
point us at our own database, a cloud metadata service or the office LAN. So the host is resolved,
every address it resolves to is checked, and the connection is then made to one of those checked
addresses (never by resolving the name a second time, which would leave a DNS-rebinding window).
TLS still uses the URL's host name for SNI and certificate checks, and the Host header is unchanged.

``allow_private`` (``CLINICORE_ALLOW_PRIVATE_WEBHOOKS``, on in development) lifts the guard only for
loopback and private networks; link-local (cloud metadata), multicast, reserved and the rest stay
refused whatever the setting.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from clinicore.kit.errors import InvalidInput
from clinicore.kit.observability import get_logger

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

ALLOWED_SCHEMES = ("http", "https")
LOOPBACK = "loopback"
PRIVATE = "private"
# Refused unless private targets are allowed; every other label is refused always.
LIFTABLE_LABELS = frozenset({LOOPBACK, PRIVATE})

# Most specific first: 169.254.169.254 reports as cloud metadata, not just link-local.
_REFUSED_NETWORKS: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(network), label)
    for network, label in (
        ("169.254.169.254/32", "cloud metadata"),
        ("0.0.0.0/8", "unspecified"),
        ("10.0.0.0/8", PRIVATE),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", LOOPBACK),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", PRIVATE),
        ("192.0.0.0/24", "reserved"),
        ("192.0.2.0/24", "reserved"),
        ("192.88.99.0/24", "reserved"),
        ("192.168.0.0/16", PRIVATE),
        ("198.18.0.0/15", "reserved"),
        ("198.51.100.0/24", "reserved"),
        ("203.0.113.0/24", "reserved"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", LOOPBACK),
        ("::/96", "reserved"),  # IPv4-compatible, deprecated
        ("100::/64", "reserved"),
        ("2001:db8::/32", "reserved"),
        ("fc00::/7", PRIVATE),  # unique local
        ("fe80::/10", "link-local"),
        ("fec0::/10", "reserved"),  # site-local, deprecated
        ("ff00::/8", "multicast"),
    )
)
_NAT64_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))

_log = get_logger(__name__)


class WebhookTargetRefused(InvalidInput):
    """The URL's host is, or resolves to, an address we must not call."""


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (IPv4-mapped, NAT64, 6to4, Teredo), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if any(address in prefix for prefix in _NAT64_PREFIXES):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def refused_label(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why ``address`` must not be called ("loopback", "cloud metadata", ...), or None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        carried = embedded_ipv4(address)
        if carried is not None:
            return refused_label(carried, allow_private=allow_private)
    label = next((label for network, label in _REFUSED_NETWORKS if address in network), None)
    if label is None and not address.is_global:
        label = "non-public"
    if label in LIFTABLE_LABELS and allow_private:
        return None
    return label


def parse_address(text: str) -> IPAddress:
    return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")


async def system_resolver(host: str, port: int) -> Sequence[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _refuse_any(host: str, addresses: Iterable[str], *, allow_private: bool) -> list[str]:
    checked = []
    for text in addresses:
        label = refused_label(parse_address(text), allow_private=allow_private)
        if label is not None:
            if text == host:  # an address the caller wrote: saying what kind it is reveals nothing
                message = f"url: {text} is a {label} address; webhooks must go to a public address"
            else:  # a name: what it resolves to inside our network is not the caller's to learn
                _log.info("webhook_target_refused", host=host, address=text, kind=label)
                message = f"url: {host} is not allowed; webhooks must go to a public address"
            raise WebhookTargetRefused(message, field="url")
        checked.append(text)
    if not checked:
        raise WebhookTargetRefused(f"url: {host} has no address", field="url")
    return checked


async def checked_addresses(host: str, port: int, *, allow_private: bool, resolver: Resolver) -> list[str]:
    """Every address of ``host``, each checked; raise ``WebhookTargetRefused`` if any one is refused.

    Raises ``OSError`` when the name does not resolve.
    """
    try:
        parse_address(host)
    except ValueError:
        addresses = list(await resolver(host, port))
    else:
        addresses = [host]
    return _refuse_any(host, addresses, allow_private=allow_private)


def url_host_and_port(url: str) -> tuple[str, int]:
    """Host and port of an http(s) URL, or ``InvalidInput`` saying what is wrong with it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"url: {exc}", field="url") from None
    if parts.scheme not in ALLOWED_SCHEMES:
        raise InvalidInput("url: must start with http:// or https://", field="url")
    if not parts.hostname:
        raise InvalidInput("url: has no host", field="url")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def check_url(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> list[str]:
    """Check a webhook URL before saving it: scheme, host, and every address the host resolves to."""
    host, port = url_host_and_port(url)
    try:
        return await checked_addresses(host, port, allow_private=allow_private, resolver=resolver)
    except OSError:
        raise InvalidInput(f"url: the host {host} does not resolve", field="url") from None


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks the host, then connects to a checked address itself."""

    def __init__(self, *, allow_private: bool, resolver: Resolver) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await checked_addresses(
                host, port, allow_private=self._allow_private, resolver=self._resolver
            )
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._backend.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are never a webhook target")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every client: loading the CA bundle takes tens of milliseconds."""
    return httpx.create_ssl_context()


class GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, *, allow_private: bool, resolver: Resolver, limits: httpx.Limits) -> None:
        super().__init__(verify=_tls_context(), trust_env=False, limits=limits)
        # httpx cannot take a network backend, so the pool is rebuilt as httpx builds it, plus ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_tls_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(allow_private=allow_private, resolver=resolver),
        )


def outbound_client(
    *,
    allow_private: bool,
    timeout: float,
    user_agent: str,
    resolver: Resolver = system_resolver,
    max_connections: int = 100,
) -> httpx.AsyncClient:
    """The client every outbound call goes through: guarded, no redirects, no proxies from the environment."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return httpx.AsyncClient(
        transport=GuardedTransport(allow_private=allow_private, resolver=resolver, limits=limits),
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": user_agent},
    )
