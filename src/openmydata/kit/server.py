"""Run ASGI apps on loopback inside the current event loop (the demo, integration tests, benchmarks)."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

# Idle keep-alive connections: servers keep them KEEP_ALIVE_S, clients (`kit.http.make_client`) drop theirs after
# CLIENT_KEEP_ALIVE_S, well before. With equal timeouts (uvicorn's and httpx's defaults are both 5 s) a client can
# send a request on a connection the server is closing at that moment and get RemoteProtocolError.
KEEP_ALIVE_S = 30
CLIENT_KEEP_ALIVE_S = 10.0


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (another process may take it before it is bound again: prefer
    `reserve_port` when the port must be known long before the server starts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def reserve_port(host: str = "127.0.0.1") -> socket.socket:
    """A socket bound to a free port and kept: nobody else can take the port before a server is started on it
    (`start_server(..., sock=...)`). Its port is `port_of(sock)`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    name: str
    host: str
    port: int
    server: uvicorn.Server
    task: asyncio.Task[None] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


async def start_server(
    name: str,
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    log_level: str = "warning",
    lifespan: Literal["on", "off"] = "on",
    sock: socket.socket | None = None,
) -> RunningServer:
    """Start `app` with uvicorn on `host:port` (a free port when None) and wait until it accepts connections.
    `lifespan="off"` serves an app whose lifespan another listener already runs (one app, two listeners); `sock`
    is a socket from `reserve_port` to serve on."""
    if sock is None and port is None:
        sock = reserve_port(host)
    if sock is not None:
        port = port_of(sock)
    assert port is not None
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan=lifespan,
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock] if sock is not None else None), name=f"server:{name}")
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError(f"{name} stopped during start-up")
        await asyncio.sleep(0.02)
    return RunningServer(name=name, host=host, port=port, server=server, task=task)
