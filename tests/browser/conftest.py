"""Browser fixtures: Debian's chromium driven by Playwright (sync API), and an ecosystem on loopback.

The ecosystem runs in a background thread with an event loop of its own, so Playwright's sync API (which runs
its own loop in the test's thread) and the uvicorn servers never share a loop. Without /usr/bin/chromium the
browser tests are skipped with a message, or fail under OPENMYDATA_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from openmydata.credit import MODEL_FILE, train
from openmydata.demo import CORE_INSTITUTIONS, Ecosystem, start_ecosystem
from openmydata.sandbox.products import write_catalogue
from tests.conftest import REQUIRE_SERVICES

T = TypeVar("T")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
START_TIMEOUT_S = 180.0


class EcosystemThread:
    """`start_ecosystem` in a thread of its own; `run` executes a coroutine on that thread's loop."""

    def __init__(
        self, data_dir: Path, *, people: int, seed: int, operator_overrides: dict[str, Any] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.people = people
        self.seed = seed
        self.operator_overrides = operator_overrides
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._eco: Ecosystem | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="ecosystem", daemon=True)

    @property
    def eco(self) -> Ecosystem:
        assert self._eco is not None, "the ecosystem is not running"
        return self._eco

    def start(self) -> Ecosystem:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise RuntimeError(f"the ecosystem did not start within {START_TIMEOUT_S:.0f} s")
        if self._error is not None:
            raise RuntimeError("the ecosystem failed to start") from self._error
        return self.eco

    def run(self, coroutine: Coroutine[Any, Any, T], timeout_s: float = 60.0) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout_s)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            self._eco = await start_ecosystem(
                self.data_dir,
                people=self.people,
                seed=self.seed,
                pin_kdf_cost=2**4,
                institutions=CORE_INSTITUTIONS,
                operator_overrides=self.operator_overrides,
            )
        except Exception as exc:  # reported by start() in the test's thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self._eco.stop()


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        message = f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if REQUIRE_SERVICES:
            pytest.fail(message + " (OPENMYDATA_REQUIRE_SERVICES=1)")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def artifacts() -> Path:
    """Where the tests save screenshots (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


CREDIT_PEOPLE = 2500  # a small credit model for the credit view (seconds to train)


@pytest.fixture(scope="module")
def ecosystem(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EcosystemThread]:
    """The core institutions and the operator, with a credit model and the product catalogue of its own (never the
    ones under the working directory's .openmydata/)."""
    folder = tmp_path_factory.mktemp("browser-ecosystem")
    train(folder / "insights", people=CREDIT_PEOPLE, seed=7)
    overrides = {
        "credit_model_path": str(folder / "insights" / MODEL_FILE),
        "product_catalogue_path": str(write_catalogue(folder / "products.json")),
    }
    running = EcosystemThread(folder / "eco", people=40, seed=20261123, operator_overrides=overrides)
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul", viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()
