"""Outbound HTTP: one httpx client factory, and third-party exceptions translated where they enter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from openmydata.kit.errors import PeerUnavailable


def make_client(base_url: str = "", *, timeout_s: float = 10.0, max_connections: int = 100) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_s),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
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
