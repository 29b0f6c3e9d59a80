"""The `openmydata` command (composition root: the only module, with `demo`, that imports several participants)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvloop
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from openmydata.kit import logging as log
from openmydata.kit.settings import ServiceSettings

T = TypeVar("T")

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
certs_app = typer.Typer(help="Participants' TLS certificates (mutual TLS between participants).", no_args_is_help=True)
app.add_typer(certs_app, name="certs")
conformance_app = typer.Typer(
    help="Check a provider's APIs against the standard over the wire (기능적합성).", no_args_is_help=True
)
app.add_typer(conformance_app, name="conformance")
bench_app = typer.Typer(help="Benchmarks against a running ecosystem on loopback.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
insights_app = typer.Typer(
    help="The credit model behind the operator's credit view, trained on sandbox data.", no_args_is_help=True
)
app.add_typer(insights_app, name="insights")
operator_app = typer.Typer(
    help="MyData operator (마이데이터사업자) collection: workers and refreshes (settings from OPENMYDATA_OPERATOR_*).",
    no_args_is_help=True,
)
app.add_typer(operator_app, name="operator")

console = Console(stderr=True)


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run a command's event loop on uvloop (libuv): the servers and clients of the ecosystem spend much of their
    time in the loop, which uvloop runs markedly faster than the standard library's."""
    return uvloop.run(main)


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


DEMO_CREDIT_PEOPLE = 10_000


def _demo_products() -> None:
    """The recommendations' product catalogue, where the operator looks for it."""
    from openmydata.operator.settings import OperatorSettings
    from openmydata.sandbox.products import write_catalogue

    write_catalogue(Path(OperatorSettings().product_catalogue_path))


def _demo_credit_model(bars: _Bars) -> None:
    """The credit view needs a model: the demo trains one on first start where the operator looks for it
    (`insights train` makes a larger one)."""
    from openmydata.credit import train
    from openmydata.operator.settings import OperatorSettings

    path = Path(OperatorSettings().credit_model_path)
    if path.exists():
        return
    train(path.parent, people=DEMO_CREDIT_PEOPLE, progress=lambda _d, done, total: bars("credit model", done, total))


@app.command()
def demo(
    smoke: Annotated[bool, typer.Option(help="Run headless: drive the whole consent flow once and print JSON")] = False,
    people: Annotated[int, typer.Option(min=10, help="Synthetic people to seed")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic population")] = 42,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where the SQLite databases go (default: a new folder under .openmydata/)")
    ] = None,
) -> None:
    """Start portal, certauth, six institutions (bank, card, telecom, insurer, investment firm, e-finance) and the
    MyData operator on loopback."""
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
        _demo_products()
        if not smoke:
            _demo_credit_model(bars)
        try:
            result = run(
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


@sandbox_app.command("products")
def sandbox_products(
    out: Annotated[Path, typer.Option(help="Where the catalogue (JSON) goes")] = Path(".openmydata/products.json"),
) -> None:
    """The sandbox's product catalogue (deposits, savings, cards, loans, telecom plans) for recommendations."""
    from openmydata.sandbox.products import PRODUCTS, write_catalogue

    write_catalogue(out)
    console.print(f"{len(PRODUCTS)} products written to {out}")


@provider_app.command("import")
def provider_import(
    file: Annotated[Path, typer.Argument(help="A JSON-lines dataset (standard.dataset.CustomerData per line)")],
    database_url: Annotated[str, typer.Option(envvar="OPENMYDATA_PROVIDER_DATABASE_URL")],
    profile: Annotated[
        str, typer.Option(envvar="OPENMYDATA_PROVIDER_STANDARD_PROFILE", help="financial or nationwide")
    ] = "financial",
) -> None:
    """Import customers into a provider's database (schema migrated first); records are checked against the
    catalogue of the provider's standard profile."""
    from openmydata.kit.db import Database
    from openmydata.provider.app import MIGRATIONS
    from openmydata.provider.importer import import_customers
    from openmydata.standard.apis import CATALOGUE
    from openmydata.standard.dataset import load_lines
    from openmydata.standard.profiles import Profile

    try:
        catalogue = CATALOGUE.for_profile(Profile(profile))
    except ValueError as exc:
        raise typer.BadParameter(f"unknown profile {profile!r} (financial or nationwide)") from exc

    async def _run() -> int:
        db = Database(database_url)
        try:
            await db.upgrade(MIGRATIONS)
            with file.open(encoding="utf-8") as handle:
                return await import_customers(db, load_lines(handle), catalogue=catalogue)
        finally:
            await db.dispose()

    count = run(_run())
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
        result = run(_verify(url))
        if result.ok:
            console.print(f"[green]intact[/]  {result.entries} entries  {url}")
        else:
            broken += 1
            console.print(f"[red]BROKEN[/]  at entry {result.seq}: {result.problem}  {url}")
    raise typer.Exit(1 if broken else 0)


DataDir = Annotated[Path, typer.Option(help="The demo's --data-dir (it holds tls/ and ecosystem.json)")]


@certs_app.command("status")
def certs_status(
    data_dir: DataDir,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Each participant's certificate, its expiry and its registry status at the portal, with any mismatch
    explained; exit 1 when anything needs attention."""
    import httpx
    from rich.table import Table

    from openmydata import certificates as certs

    state = certs.load_state(data_dir)
    store = certs.CertificateStore(data_dir / "tls")
    trusted = store.authority().certificate

    async def _registered(org_codes: list[str]) -> dict[str, dict[str, object] | None]:
        found: dict[str, dict[str, object] | None] = {}
        async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
            for org_code in org_codes:
                response = await http.get(
                    f"{state['portal_admin_url']}/admin/orgs/{org_code}", headers={"x-admin-key": state["admin_key"]}
                )
                found[org_code] = response.json() if response.status_code == 200 else None
        return found

    holders = certs.holders_of(state)
    try:
        registered = run(_registered([holder.org_code for holder in holders if holder.name != "portal"]))
    except httpx.TransportError as exc:
        console.print(f"[red]The portal at {state['portal_admin_url']} did not answer: is the demo running?[/]")
        raise typer.Exit(2) from exc
    statuses = []
    for holder in holders:
        certificate = store.certificate(holder.name)
        entry = registered.get(holder.org_code)
        if holder.name == "portal" and certificate is not None:
            # The portal is the registry, not in it: operators know its SERIALNUMBER from their settings.
            entry = {"active": True, "serial_num": holder.regno, "cert_fingerprints": []}
        statuses.append(
            certs.explain(holder, certificate, entry, mode="serial", trusted_ca=trusted)
            if holder.name == "portal"
            else certs.explain(holder, certificate, entry, mode=state.get("peer_check", "serial"), trusted_ca=trusted)
        )
    if as_json:
        print(json.dumps([status.as_json() for status in statuses], ensure_ascii=False))
    else:
        table = Table(title=f"TLS certificates ({state.get('peer_check', 'serial')} check)")
        for column in ("participant", "org_code", "SERIALNUMBER", "fingerprint", "expires", "days", "registry"):
            table.add_column(column)
        for status in statuses:
            table.add_row(
                status.name,
                status.org_code,
                status.subject_serial or "-",
                (status.fingerprint or "-")[:16],
                f"{status.not_after:%Y-%m-%d}" if status.not_after else "-",
                str(status.days_left) if status.days_left is not None else "-",
                "[green]ok[/]" if status.ok else "[red]attention[/]",
            )
        Console().print(table)
        for status in statuses:
            for problem in status.problems:
                console.print(f"[yellow]{status.name}[/]: {problem}")
    raise typer.Exit(0 if all(status.ok for status in statuses) else 1)


@certs_app.command("rotate")
def certs_rotate(
    data_dir: DataDir,
    participant: Annotated[
        list[str] | None, typer.Option(help="Only these participants (default: every one); repeatable")
    ] = None,
    due_only: Annotated[bool, typer.Option(help="Only certificates inside the 30-day renewal window")] = False,
) -> None:
    """Issue new certificates (same SERIALNUMBER) and register them at the portal of a running demo; the
    participants pick them up without a restart."""
    import httpx

    from openmydata import certificates as certs

    state = certs.load_state(data_dir)
    store = certs.CertificateStore(data_dir / "tls")
    chosen = [
        holder
        for holder in certs.holders_of(state)
        if (not participant or holder.name in participant) and (not due_only or store.needs_renewal(holder.name))
    ]

    async def _rotate() -> None:
        async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
            for holder in chosen:
                certificate = store.issue(holder)
                if holder.name != "portal":
                    await certs.register_certificate(
                        http, state["portal_admin_url"], state["admin_key"], holder.org_code, certificate
                    )
                until = certificate.not_valid_after_utc
                console.print(f"[green]rotated[/] {holder.name} ({holder.org_code}) until {until:%Y-%m-%d}")

    try:
        run(_rotate())
    except httpx.TransportError as exc:
        console.print(f"[red]The portal at {state['portal_admin_url']} did not answer: is the demo running?[/]")
        raise typer.Exit(2) from exc
    if not chosen:
        console.print("nothing to rotate")


@conformance_app.command("run")
def conformance_run(
    provider_url: Annotated[str, typer.Option(help="The provider's base URL, e.g. https://mydata-test.example.com")],
    org_code: Annotated[str, typer.Option(help="The provider's org_code")],
    token: Annotated[str, typer.Option(help="An access token of a test consent covering every scope of the sectors")],
    sector: Annotated[list[str], typer.Option(help="A sector to check: bank, card, telecom, ... (repeatable)")],
    operator_org_code: Annotated[str, typer.Option(help="Your org_code (it makes the x-api-tran-ids)")],
    tls_cert: Annotated[Path | None, typer.Option(help="Client certificate (PEM) for mutual TLS")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="Its private key (PEM)")] = None,
    tls_ca: Annotated[Path | None, typer.Option(help="CA bundle the provider's certificate chains to")] = None,
    out: Annotated[Path, typer.Option(help="Where conformance.json and conformance.html go")] = Path("conformance"),
    profile: Annotated[
        str, typer.Option(help="The standard the provider speaks: financial, or nationwide (2025 telecom profile)")
    ] = "financial",
) -> None:
    """Exercise every catalogued API of the provider's sectors (positive and negative checks) and write a JSON and
    an HTML report; the last line printed is the JSON summary. Exit 1 when any check failed."""
    from openmydata.conformance import run_conformance, write_report
    from openmydata.kit.http import make_client
    from openmydata.kit.tls import TlsFiles, TlsIdentity

    if profile not in ("financial", "nationwide"):
        raise typer.BadParameter(f"unknown profile {profile!r} (financial or nationwide)")
    files = (tls_cert, tls_key, tls_ca)
    if any(files) and not all(files):
        raise typer.BadParameter("--tls-cert, --tls-key and --tls-ca go together")
    identity = TlsIdentity(TlsFiles(tls_cert, tls_key, tls_ca)) if tls_cert and tls_key and tls_ca else None

    async def _run() -> dict[str, object]:
        async with make_client(timeout_s=60, tls=identity) as http:
            with _progress() as progress:
                bars = _Bars(progress)
                report = await run_conformance(
                    http,
                    base_url=provider_url.rstrip("/"),
                    org_code=org_code,
                    token=token,
                    sectors=sector,
                    operator_org_code=operator_org_code,
                    progress=bars,
                    profile=profile,
                )
        json_path, html_path = write_report(report, out)
        console.print(f"reports: {json_path} {html_path}")
        return report.totals()

    summary = run(_run())
    print(json.dumps(summary, ensure_ascii=False))
    raise typer.Exit(0 if summary["failed"] == 0 else 1)


@conformance_app.command("demo")
def conformance_demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON summary (last line)")] = False,
    sector: Annotated[list[str] | None, typer.Option(help="Sectors (default: every one the sandbox generates)")] = None,
    people: Annotated[int, typer.Option(min=20, help="Synthetic people to seed")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic population")] = 42,
    data_dir: Annotated[Path | None, typer.Option(help="Where databases and reports go")] = None,
    through_relay: Annotated[
        bool,
        typer.Option("--through-relay", help="Put every institution behind one relay (중계기관) and check it there"),
    ] = False,
) -> None:
    """Start a demo ecosystem with one provider per sector and run the conformance checker against each over mutual
    TLS; the last line printed is the JSON summary (passed, failed, sectors, apis_checked, ...)."""
    from openmydata import demo as demo_module
    from openmydata.sandbox.institutions import SECTORS

    chosen = list(sector or demo_module.SECTOR_INSTITUTIONS)  # every sector, and the nationwide telecom profile
    unknown = sorted(set(chosen) - set(demo_module.SECTOR_INSTITUTIONS) - set(SECTORS))
    if unknown:
        raise typer.BadParameter(f"unknown sectors: {', '.join(unknown)}")
    folder = data_dir or Path(".openmydata") / f"conformance-{date.today().isoformat()}"
    if folder.exists() and data_dir is None:
        import shutil

        shutil.rmtree(folder)
    elif data_dir is not None and data_dir.is_dir() and any(data_dir.iterdir()):
        # the databases and keys of an earlier run would be mixed with the new ecosystem's
        raise typer.BadParameter(f"{data_dir} is not empty: the conformance demo starts afresh in a new folder")
    log.configure(json=False, level=40)  # once the arguments are known to be good
    with _progress() as progress:
        bars = _Bars(progress)
        try:
            summary = run(
                demo_module.run_conformance_demo(
                    folder, sectors=chosen, people=people, seed=seed, progress=bars, through_relay=through_relay
                )
            )
        except demo_module.SmokeFailure as exc:
            print(json.dumps({"ok": False, "error": str(exc)}, ensure_ascii=False))
            raise typer.Exit(1) from exc
    if not as_json:
        for name, totals in summary["per_sector"].items():
            console.print(
                f"{name:8} passed {totals['passed']:5}  failed {totals['failed']:3}  apis {totals['apis_checked']}"
            )
    print(json.dumps(summary, ensure_ascii=False))
    raise typer.Exit(0 if summary["failed"] == 0 else 1)


@bench_app.command("collect")
def bench_collect(
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON summary (last line)")] = False,
    people: Annotated[int, typer.Option(min=1, help="People who connect, one after the other")] = 20,
    providers: Annotated[
        int, typer.Option(min=1, max=50, help="Institutions (the standard's batch maximum is 50)")
    ] = 50,
    latency_ms: Annotated[float, typer.Option(min=0, help="Latency each institution adds to every API call")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic population")] = 42,
    data_dir: Annotated[Path | None, typer.Option(help="Where databases go (default: a new folder)")] = None,
) -> None:
    """Fan-out for a waiting person: each person's first collection from every institution, against the slowest
    institution's own sequential time; records lost and duplicated; calls/s. The last line printed is JSON."""
    import tempfile

    from openmydata.benchmarks import run_collect_bench

    log.configure(json=False, level=40)
    with tempfile.TemporaryDirectory(prefix="openmydata-bench-") as scratch:
        folder = data_dir or Path(scratch)
        with _progress() as progress:
            summary = run(
                run_collect_bench(
                    folder,
                    people=people,
                    providers=providers,
                    latency_ms=latency_ms,
                    seed=seed,
                    progress=_Bars(progress),
                )
            )
    if not as_json:
        for key in ("fanout_ratio", "fanout_ratio_max", "first_collection_ms_median", "slowest_sequential_ms_median"):
            console.print(f"{key:32} {summary[key]}")
    print(json.dumps(summary, ensure_ascii=False))
    raise typer.Exit(0 if summary["lost"] == 0 and summary["duplicated"] == 0 else 1)


def _insights_dir(directory: Path | None) -> Path:
    return directory or Path(".openmydata") / "insights"


@insights_app.command("train")
def insights_train(
    people: Annotated[int, typer.Option(min=500, help="Synthetic people generated (a fifth are held out)")] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic population")] = 42,
    as_of: Annotated[str, typer.Option(help="Last day of the data window (YYYY-MM-DD)")] = "2026-06-30",
    directory: Annotated[Path | None, typer.Option("--dir", help="Where the models and the report go")] = None,
) -> None:
    """Train the credit model (financial + telecom features) and the financial-only comparison on the sandbox,
    save both with the held-out people, and write the evaluation report."""
    from datetime import date

    from openmydata.credit import REPORT_FILE, train

    folder = _insights_dir(directory)
    with _progress() as progress:
        figures = train(folder, people=people, seed=seed, as_of=date.fromisoformat(as_of), progress=_Bars(progress))
    for key in ("auc_all", "auc_all_without_telecom", "auc_thin_file", "auc_thin_file_without_telecom"):
        console.print(f"{key:32} {figures[key]}")
    console.print(f"models and report in {folder} (open {folder / REPORT_FILE})")


@insights_app.command("evaluate")
def insights_evaluate(
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON figures (last line)")] = False,
    directory: Annotated[Path | None, typer.Option("--dir", help="Where `insights train` saved the models")] = None,
) -> None:
    """AUC of both models on the held-out people, all and thin-file; rewrites the HTML report."""
    from openmydata.credit import MODEL_FILE, REPORT_FILE, evaluate

    folder = _insights_dir(directory)
    if not (folder / MODEL_FILE).exists():
        console.print(f"[red]no model in {folder}: run `openmydata insights train` first[/red]")
        raise typer.Exit(2)
    figures = evaluate(folder)
    if not as_json:
        for key, value in figures.items():
            console.print(f"{key:32} {value}")
        console.print(f"report: {folder / REPORT_FILE}")
    print(json.dumps(figures, ensure_ascii=False))


@operator_app.command("worker")
def operator_worker(
    processes: Annotated[int, typer.Option(min=1, help="Worker processes to start")] = 1,
    threads: Annotated[int, typer.Option(min=1, help="Jobs each process runs at once (Dramatiq worker threads)")] = 64,
) -> None:
    """Run collection jobs outside the web app until stopped (SIGTERM/SIGINT): Dramatiq workers over RabbitMQ with
    OPENMYDATA_OPERATOR_JOBS_BACKEND=dramatiq, else the embedded pool over the operator's own database."""
    import signal
    import subprocess

    if processes > 1:
        command = [sys.executable, "-m", "openmydata.cli", "operator", "worker", "--threads", str(threads)]
        children = [subprocess.Popen(command) for _ in range(processes)]  # noqa: S603 - our own command

        def forward(signum: int, _frame: object) -> None:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        codes = [child.wait() for child in children]
        raise typer.Exit(max(codes, default=0))

    from openmydata.operator.runtime import serve_worker
    from openmydata.operator.settings import OperatorSettings

    log.configure(json=True)

    async def _run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await serve_worker(OperatorSettings(), threads=threads, stop=stop)

    run(_run())


@operator_app.command("collect")
def operator_collect(
    all_consents: Annotated[
        bool, typer.Option("--all", help="Every live consent of every person (a scheduled collection)")
    ] = False,
    wait: Annotated[bool, typer.Option(help="Wait for every collection to finish, showing progress")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON summary (last line)")] = False,
) -> None:
    """Collect now for every live consent (x-api-type scheduled: only what is due in each consent's cycle, inside
    each institution's registered windows). With the embedded backend this process runs the jobs."""
    if not all_consents:
        console.print("Say which collections: --all")
        raise typer.Exit(2)
    from openmydata.operator.runtime import collect_all
    from openmydata.operator.settings import OperatorSettings

    log.configure(json=False, level=40 if as_json else 30)
    with _progress() as progress:
        summary = run(collect_all(OperatorSettings(), progress=_Bars(progress), wait=wait))
    if not as_json:
        for key, value in summary.items():
            console.print(f"{key:12} {value}")
    print(json.dumps(summary, ensure_ascii=False))
    raise typer.Exit(0 if summary["failed"] == 0 else 1)


def _serve(
    name: str,
    factory: Callable[[], tuple[object, ServiceSettings]],
    host: str,
    port: int,
    *,
    fd: int | None = None,
    log_level: str = "info",
) -> None:
    """Serve one participant: over mutual TLS 1.3 when its tls_* settings are set (the only way other
    participants' calls are accepted), plain HTTP only with insecure_plain_http. `fd`: a listening socket handed
    down by the process that started this one (it chose and reserved the port)."""
    import logging
    import socket

    import uvicorn

    from openmydata.kit.server import KEEP_ALIVE_S
    from openmydata.kit.tls import start_tls_server

    log.configure(json=True, level=getattr(logging, log_level.upper(), logging.INFO))
    app, settings = factory()
    identity = settings.tls_identity()
    if identity is None:
        uvicorn.run(
            app,  # type: ignore[arg-type]
            host=host,
            port=port,
            fd=fd,
            log_level=log_level,
            timeout_keep_alive=KEEP_ALIVE_S,
        )
        return

    async def _run() -> None:
        sock = socket.socket(fileno=fd) if fd is not None else None
        server = await start_tls_server(
            name,
            app,  # type: ignore[arg-type]
            identity=identity,
            host=host,
            port=None if sock is not None else port,
            log_level=log_level,
            reload_interval_s=settings.tls_reload_interval_s,
            sock=sock,
        )
        await server.task

    run(_run())


@serve_app.command("portal")
def serve_portal(host: str = "127.0.0.1", port: int = 8001) -> None:
    """종합포털 (settings from OPENMYDATA_PORTAL_*)."""
    from openmydata.portal.app import create_app
    from openmydata.portal.settings import PortalSettings

    def factory() -> tuple[object, ServiceSettings]:
        settings = PortalSettings()
        return create_app(settings), settings

    _serve("portal", factory, host, port)


@serve_app.command("certauth")
def serve_certauth(host: str = "127.0.0.1", port: int = 8002) -> None:
    """통합인증기관 (settings from OPENMYDATA_CERTAUTH_*)."""
    from openmydata.certauth.app import create_app
    from openmydata.certauth.settings import CertAuthSettings

    def factory() -> tuple[object, ServiceSettings]:
        settings = CertAuthSettings()
        return create_app(settings), settings

    _serve("certauth", factory, host, port)


@serve_app.command("provider")
def serve_provider(
    host: str = "127.0.0.1",
    port: int = 8003,
    fd: Annotated[int | None, typer.Option(help="Serve on this inherited listening socket instead")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
) -> None:
    """정보제공자 (settings from OPENMYDATA_PROVIDER_*)."""
    from openmydata.provider.app import create_app
    from openmydata.provider.settings import ProviderSettings

    def factory() -> tuple[object, ServiceSettings]:
        settings = ProviderSettings()
        return create_app(settings), settings

    _serve("provider", factory, host, port, fd=fd, log_level=log_level)


@serve_app.command("relay")
def serve_relay(host: str = "127.0.0.1", port: int = 8010) -> None:
    """중계기관: fronts several institutions' org_codes (settings from OPENMYDATA_RELAY_*, the institutions in
    OPENMYDATA_RELAY_FRONTED as JSON org_code → base URL)."""
    from openmydata.provider.relay import RelaySettings, create_relay_app

    def factory() -> tuple[object, ServiceSettings]:
        settings = RelaySettings()
        return create_relay_app(settings), settings

    _serve("relay", factory, host, port)


@serve_app.command("operator")
def serve_operator(host: str = "127.0.0.1", port: int = 8004) -> None:
    """마이데이터사업자 (settings from OPENMYDATA_OPERATOR_*)."""
    from openmydata.operator.app import create_app
    from openmydata.operator.settings import OperatorSettings

    def factory() -> tuple[object, ServiceSettings]:
        settings = OperatorSettings()
        return create_app(settings), settings

    _serve("operator", factory, host, port)


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
