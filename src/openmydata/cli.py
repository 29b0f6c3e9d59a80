"""The `openmydata` command (composition root: the only module, with `demo`, that imports several participants)."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from openmydata.kit import logging as log

app = typer.Typer(help="openmydata — Korea's MyData ecosystem on your machine.", no_args_is_help=True)
sandbox_app = typer.Typer(help="Synthetic people and institution data.", no_args_is_help=True)
provider_app = typer.Typer(help="Data provider (정보제공자) tools.", no_args_is_help=True)
serve_app = typer.Typer(
    help="Run one participant as a server (settings from OPENMYDATA_* variables).", no_args_is_help=True
)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(provider_app, name="provider")
app.add_typer(serve_app, name="serve")
audit_app = typer.Typer(help="Tamper-evident audit logs.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

console = Console(stderr=True)


class _Bars:
    """A Rich progress bar per named step, driven by `(description, completed, total)` callbacks."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, description: str, completed: int, total: int) -> None:
        if description not in self.tasks:
            self.tasks[description] = self.progress.add_task(description, total=total)
        self.progress.update(self.tasks[description], completed=completed, total=total)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@app.command()
def demo(
    smoke: Annotated[bool, typer.Option(help="Run headless: drive the whole consent flow once and print JSON")] = False,
    people: Annotated[int, typer.Option(min=10, help="Synthetic people to seed")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic population")] = 42,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where the SQLite databases go (default: a new folder under .openmydata/)")
    ] = None,
) -> None:
    """Start portal, certauth, a bank, a card company, a telecom operator and the MyData operator on loopback."""
    from openmydata import demo as demo_module

    log.configure(json=False, level=40 if smoke else 20)
    folder = data_dir or Path(".openmydata") / f"{'smoke' if smoke else 'demo'}-{date.today().isoformat()}"
    if folder.exists() and data_dir is None:
        import shutil

        shutil.rmtree(folder)

    def on_ready(eco: demo_module.Ecosystem) -> None:
        person = eco.customers_of_all()[0]
        console.print()
        console.print(f"[bold green]openmydata is running.[/] Open the MyData service: [bold]{eco.operator_url}[/]")
        console.print(f"  portal {eco.portal.url} · certification authority {eco.certauth.url}")
        for provider in eco.providers:
            console.print(f"  {provider.sector:8} {provider.name} ({provider.org_code}) {provider.server.url}")
        console.print("[bold]Demo login[/] (sign up with these; approve at the certificate page with the PIN):")
        console.print(
            f"  name {person.name} · birth date {person.birth_date} · phone {person.phone} · PIN {person.pin}"
        )
        console.print("Press Ctrl+C to stop.")

    with _progress() as progress:
        bars = _Bars(progress)
        try:
            result = asyncio.run(
                demo_module.run(folder, people=people, seed=seed, smoke=smoke, progress=bars, on_ready=on_ready)
            )
        except KeyboardInterrupt:
            return
        except demo_module.SmokeFailure as exc:
            print(json.dumps({"ok": False, "error": str(exc)}, ensure_ascii=False))
            raise typer.Exit(1) from exc
    if smoke:
        assert result is not None
        print(json.dumps(result, ensure_ascii=False))
        raise typer.Exit(0 if result.get("ok") else 1)


@sandbox_app.command("generate")
def sandbox_generate(
    people: Annotated[int, typer.Option(min=1)] = 1000,
    seed: Annotated[int, typer.Option()] = 42,
    out: Annotated[Path, typer.Option(help="Output folder")] = Path(".openmydata/sandbox"),
    as_of: Annotated[str | None, typer.Option(help="Last day of the data (YYYY-MM-DD, default today)")] = None,
    institution: Annotated[
        list[str] | None,
        typer.Option(help="sector:ORG_CODE (repeatable); default a bank, a card company and a telecom"),
    ] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: one per core)")] = None,
) -> None:
    """Write a deterministic synthetic population and each institution's customer data (JSON lines)."""
    from openmydata.kit.clock import today_kst
    from openmydata.sandbox.generate import write_dataset

    plans = [
        tuple(item.split(":", 1))
        for item in (institution or ["bank:A1AAAA0000", "card:D1AAAA0000", "telecom:F1AAAA0000"])
    ]
    day = date.fromisoformat(as_of) if as_of else today_kst()
    with _progress() as progress:
        summary = write_dataset(out, people, seed, day, plans, progress=_Bars(progress), workers=workers)  # type: ignore[arg-type]
    for item in summary.institutions:
        console.print(
            f"{item.sector:8} {item.org_code}: {item.customers} customers, {item.records} records → {out / item.file}"
        )


@provider_app.command("import")
def provider_import(
    file: Annotated[Path, typer.Argument(help="A JSON-lines dataset (standard.dataset.CustomerData per line)")],
    database_url: Annotated[str, typer.Option(envvar="OPENMYDATA_PROVIDER_DATABASE_URL")],
) -> None:
    """Import customers into a provider's database (schema migrated first)."""
    from openmydata.kit.db import Database
    from openmydata.provider.app import MIGRATIONS
    from openmydata.provider.importer import import_customers
    from openmydata.standard.dataset import load_lines

    async def _run() -> int:
        db = Database(database_url)
        try:
            await db.upgrade(MIGRATIONS)
            with file.open(encoding="utf-8") as handle:
                return await import_customers(db, load_lines(handle))
        finally:
            await db.dispose()

    count = asyncio.run(_run())
    console.print(f"imported {count} customers")


@audit_app.command("verify")
def audit_verify(
    database_url: Annotated[list[str], typer.Option(help="A participant's database URL (repeatable)")],
) -> None:
    """Recompute each participant's audit hash chain; exit 1 if any entry was altered, removed or reordered."""
    from sqlalchemy import MetaData

    from openmydata.kit.audit import AuditChain, Verification, audit_tables
    from openmydata.kit.db import Database

    async def _verify(url: str) -> Verification:
        db = Database(url)
        try:
            chain = AuditChain(*audit_tables(MetaData()))
            async with db.engine.connect() as connection:
                return await connection.run_sync(chain.verify)
        finally:
            await db.dispose()

    broken = 0
    for url in database_url:
        result = asyncio.run(_verify(url))
        if result.ok:
            console.print(f"[green]intact[/]  {result.entries} entries  {url}")
        else:
            broken += 1
            console.print(f"[red]BROKEN[/]  at entry {result.seq}: {result.problem}  {url}")
    raise typer.Exit(1 if broken else 0)


def _serve(name: str, factory: object, host: str, port: int) -> None:
    import uvicorn

    log.configure(json=True)
    uvicorn.run(factory, host=host, port=port, factory=True, log_level="info")  # type: ignore[arg-type]


@serve_app.command("portal")
def serve_portal(host: str = "127.0.0.1", port: int = 8001) -> None:
    """종합포털 (settings from OPENMYDATA_PORTAL_*)."""
    from openmydata.portal.app import create_app
    from openmydata.portal.settings import PortalSettings

    _serve("portal", lambda: create_app(PortalSettings()), host, port)


@serve_app.command("certauth")
def serve_certauth(host: str = "127.0.0.1", port: int = 8002) -> None:
    """통합인증기관 (settings from OPENMYDATA_CERTAUTH_*)."""
    from openmydata.certauth.app import create_app
    from openmydata.certauth.settings import CertAuthSettings

    _serve("certauth", lambda: create_app(CertAuthSettings()), host, port)


@serve_app.command("provider")
def serve_provider(host: str = "127.0.0.1", port: int = 8003) -> None:
    """정보제공자 (settings from OPENMYDATA_PROVIDER_*)."""
    from openmydata.provider.app import create_app
    from openmydata.provider.settings import ProviderSettings

    _serve("provider", lambda: create_app(ProviderSettings()), host, port)


@serve_app.command("operator")
def serve_operator(host: str = "127.0.0.1", port: int = 8004) -> None:
    """마이데이터사업자 (settings from OPENMYDATA_OPERATOR_*)."""
    from openmydata.operator.app import create_app
    from openmydata.operator.settings import OperatorSettings

    _serve("operator", lambda: create_app(OperatorSettings()), host, port)


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
