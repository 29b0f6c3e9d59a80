"""Run ASGI apps on loopback inside the current event loop (the demo, integration tests, benchmarks)."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from typing import Literal

import uvicorn
from starlette.types import ASGIApp


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
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
) -> RunningServer:
    """Start `app` with uvicorn on `host:port` (a free port when None) and wait until it accepts connections.
    `lifespan="off"` serves an app whose lifespan another listener already runs (one app, two listeners)."""
    port = port or free_port(host)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, lifespan=lifespan)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(), name=f"server:{name}")
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError(f"{name} stopped during start-up")
        await asyncio.sleep(0.02)
    return RunningServer(name=name, host=host, port=port, server=server, task=task)
