"""The one place that POSTs to integrators' URLs: SSRF checks, the checked address connected to, no redirects.

A URL's host is resolved at each delivery and every address it gives is checked, then the connection goes to the
checked address (TLS still verifies the host name): a name that resolves elsewhere between check and connect
(DNS rebinding) cannot redirect a delivery to an internal service.
"""

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

from integrations.exceptions import EndpointUrlRefused

RESPONSE_KEPT_BYTES = 2048


@dataclass(frozen=True)
class Target:
    """Where a URL's request goes: the checked address, and what the request names."""

    scheme: str
    host: str
    port: int
    address: str
    path: str


@dataclass(frozen=True)
class Answer:
    """What one POST gave: the status (None when no answer), the start of the body, the time taken, an error."""

    status: int | None
    body: str
    latency_ms: int
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _address_refused(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%")[0])
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    for name in ("is_loopback", "is_private", "is_link_local", "is_multicast", "is_reserved", "is_unspecified"):
        if getattr(ip, name):
            return f"{address} is a {name[3:].replace('_', '-')} address."
    return None


def url_check(url: str, *, unresolved_ok: bool = False) -> Target | None:
    """Check that events may go to `url`; return where to connect.

    With `unresolved_ok` (saving an endpoint), a name that does not resolve yet gives None instead of an error:
    every delivery resolves and checks it again.

    Only https, and no loopback, private, link-local, multicast or reserved address, unless
    INTEGRATIONS_ALLOW_PRIVATE_URLS (local receivers: the sandbox, tests). Raises EndpointUrlRefused naming `url`.
    """
    allow_private = settings.INTEGRATIONS_ALLOW_PRIVATE_URLS
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise EndpointUrlRefused("Only https:// URLs can receive events.", field="url")
    if not parts.hostname:
        raise EndpointUrlRefused("The URL names no host.", field="url")
    if parts.username or parts.password:
        raise EndpointUrlRefused("The URL must not carry a user name or password.", field="url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise EndpointUrlRefused("The URL's port is not a number from 1 to 65535.", field="url") from None
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        if unresolved_ok:
            return None
        raise EndpointUrlRefused(f"The host {parts.hostname} does not resolve ({exc}).", field="url") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private:
        for address in addresses:
            if (why := _address_refused(address)) is not None:
                raise EndpointUrlRefused(f"The host {parts.hostname} resolves to {why}", field="url")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=parts.hostname, port=port, address=addresses[0], path=path)


_pools: dict[tuple, urllib3.HTTPConnectionPool] = {}
_pools_lock = threading.Lock()


def _pool(target: Target) -> urllib3.HTTPConnectionPool:
    """Return a shared connection pool to the target's address (keep-alive across deliveries; thread-safe)."""
    timeout = urllib3.Timeout(connect=settings.INTEGRATIONS_CONNECT_TIMEOUT, read=settings.INTEGRATIONS_READ_TIMEOUT)
    key = (target.scheme, target.address, target.port, target.host, timeout.connect_timeout, timeout.read_timeout)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            if len(_pools) > 200:  # Endpoints come and go: keep the table bounded.
                _pools.clear()
            options = {"timeout": timeout, "retries": False, "maxsize": settings.INTEGRATIONS_DELIVERY_CONCURRENCY}
            if target.scheme == "https":
                pool = urllib3.HTTPSConnectionPool(target.address, target.port, server_hostname=target.host,
                                                   assert_hostname=target.host, **options)
            else:
                pool = urllib3.HTTPConnectionPool(target.address, target.port, **options)
            _pools[key] = pool
    return pool


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url` once: no redirect followed, connect and read timeouts, the first 2 KB of the answer kept."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = url_check(url)
    except EndpointUrlRefused as exc:
        return Answer(status=None, body="", latency_ms=elapsed(), error=exc.message)
    name = f"[{target.host}]" if ":" in target.host else target.host  # An IPv6 literal.
    host = name if target.port == (443 if target.scheme == "https" else 80) else f"{name}:{target.port}"
    try:
        response = _pool(target).urlopen(
            "POST", target.path, body=body, headers={**headers, "Host": host}, redirect=False,
            assert_same_host=False, preload_content=False,
        )
    except urllib3.exceptions.HTTPError as exc:
        return Answer(status=None, body="", latency_ms=elapsed(), error=_describe(exc))
    try:
        head = response.read(RESPONSE_KEPT_BYTES, decode_content=False)
        if response.read(1, decode_content=False):
            response.close()  # A longer answer: drop the connection rather than read it all.
        else:
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        response.close()
        return Answer(status=response.status, body="", latency_ms=elapsed(), error=_describe(exc))
    return Answer(status=response.status, body=head.decode("utf-8", errors="replace"), latency_ms=elapsed())


def _describe(exc: Exception) -> str:
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return "Connect timeout."
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return "Read timeout."
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return "Connection refused or unreachable."
    return f"{type(exc).__name__}: {str(exc)[:300]}"
