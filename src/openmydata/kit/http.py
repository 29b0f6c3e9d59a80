"""Outbound HTTP: one httpx client factory, and third-party exceptions translated where they enter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx

from openmydata.kit.errors import PeerUnavailable
from openmydata.kit.server import CLIENT_KEEP_ALIVE_S

if TYPE_CHECKING:
    from openmydata.kit.tls import TlsIdentity


class _RotatingTransport(httpx.AsyncBaseTransport):
    """An HTTPS transport presenting the participant's current client certificate: after `TlsIdentity.reload()`
    the next request opens a fresh connection pool with the new certificate (pooled connections would go on
    presenting the old one). Retired pools close with the client."""

    def __init__(self, identity: TlsIdentity, limits: httpx.Limits):
        self._identity = identity
        self._limits = limits
        self._generation = identity.generation
        self._inner = self._new_inner()
        self._retired: list[httpx.AsyncHTTPTransport] = []

    def _new_inner(self) -> httpx.AsyncHTTPTransport:
        return httpx.AsyncHTTPTransport(verify=self._identity.client_context(), limits=self._limits)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._generation != self._identity.generation:
            self._retired.append(self._inner)
            self._generation = self._identity.generation
            self._inner = self._new_inner()
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        for transport in (*self._retired, self._inner):
            await transport.aclose()


def make_client(
    base_url: str = "",
    *,
    timeout_s: float = 10.0,
    max_connections: int = 100,
    tls: TlsIdentity | None = None,
    keepalive_s: float = CLIENT_KEEP_ALIVE_S,
) -> httpx.AsyncClient:
    """An httpx client for calls to peers; with `tls`, HTTPS with the participant's client certificate (mutual TLS
    1.3, peers' certificates checked against its trusted CAs only)."""
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=keepalive_s,  # below the servers' keep-alive (see kit.server)
    )
    transport = _RotatingTransport(tls, limits) if tls is not None else None
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_s),
        limits=limits,
        transport=transport,
        trust_env=False,
    )


@contextmanager
def map_exceptions(peer: str) -> Iterator[None]:
    """Callers see `PeerUnavailable`, never `httpx.ConnectTimeout` and friends."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise PeerUnavailable(peer, f"timeout ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise PeerUnavailable(peer, f"transport error ({type(exc).__name__})") from exc
    except httpx.InvalidURL as exc:
        raise PeerUnavailable(peer, "invalid URL") from exc


class ClientsByOrigin:
    """One client per peer base URL, made on first use by `factory` and closed together: each peer gets a pool of
    its own (httpcore scans a pool's connections on every request, so one pool shared by many busy peers costs time
    that grows with their number)."""

    def __init__(self, factory: Callable[[], httpx.AsyncClient]):
        self._factory = factory
        self._clients: dict[str, httpx.AsyncClient] = {}

    def __call__(self, base_url: str) -> httpx.AsyncClient:
        origin = str(httpx.URL(base_url).copy_with(path="/", query=None, fragment=None))
        client = self._clients.get(origin)
        if client is None:
            client = self._clients[origin] = self._factory()
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
