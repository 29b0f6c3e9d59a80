"""`openmydata demo`: a whole MyData ecosystem on loopback with embedded storage, and the headless smoke run.

Composition root (with `cli`): the only place besides `cli` that imports several participants. Participants
still talk to each other only over HTTP on 127.0.0.1; this module starts them, registers them at the portal the
way an administrator would, seeds synthetic people, and — for `--smoke` — drives the consent flow as a person
and checks the outcome against what the providers hold.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import os
import secrets
import socket
import ssl
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, cast

import httpx

from openmydata.certauth.app import create_app as create_certauth
from openmydata.certauth.settings import CertAuthSettings
from openmydata.certificates import CertificateStore, Holder, register_certificate, save_state
from openmydata.kit import logging as log
from openmydata.kit.clock import today_kst
from openmydata.kit.db import Database, sqlite_url
from openmydata.kit.http import make_client
from openmydata.kit.server import RunningServer, port_of, reserve_port, start_server
from openmydata.kit.settings import ServiceSettings
from openmydata.kit.tls import TlsIdentity, certificate_fingerprint, start_tls_server
from openmydata.operator.app import create_app as create_operator
from openmydata.operator.inspection import holdings, rows_held
from openmydata.operator.settings import OperatorSettings
from openmydata.portal.app import create_app as create_portal
from openmydata.portal.settings import PortalSettings
from openmydata.provider.app import create_app as create_provider
from openmydata.provider.authorize import hash_login_pin
from openmydata.provider.importer import export_customer_records, import_customers, import_login_hashes
from openmydata.provider.relay import RelaySettings, create_relay_app
from openmydata.provider.settings import ProviderSettings
from openmydata.sandbox.generate import people_for_certauth
from openmydata.sandbox.institutions import SectorName, generate_customers, is_customer
from openmydata.sandbox.population import Person, generate_people
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import Kind, NaturalKeys

HOST = "127.0.0.1"
_logger = log.get_logger("openmydata.demo")
# scrypt cost for the demo people's PIN-protected keys: lower than certauth's production default (2**14) so that
# enrolling 1,000 people takes seconds; a six-digit PIN is protected by the attempt limit, not by the KDF cost.
DEMO_PIN_KDF_COST = 2**11
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class InstitutionPlan:
    sector: str
    name: str
    regno: str
    # Served behind the demo's relay (중계기관, `provider.relay`): registered with org_type 02 and the relay's
    # domain; operators reach it only through the relay.
    behind_relay: bool = False
    # The holder name of its certificate (several institutions of one sector need distinct ones).
    holder_name: str = ""
    # The standard its information APIs follow (`ProviderSettings.standard_profile`): a telecom operator can serve
    # the 2025 nationwide standard's telecom APIs instead of the financial ones.
    profile: str = "financial"

    @property
    def holder(self) -> str:
        return self.holder_name or f"provider-{self.sector}"


RELAY_PLAN = InstitutionPlan("relay", "오픈중계", "1018100014")


# The financial group and telecom operator at the heart of the platform: what tests that need no more start.
CORE_INSTITUTIONS = (
    InstitutionPlan("bank", "오픈은행", "1018100001"),
    InstitutionPlan("card", "오픈카드", "1018100002"),
    InstitutionPlan("telecom", "오픈텔레콤", "1018100003"),
)
# `openmydata demo`: the core plus an insurer, an investment firm and an e-finance company.
DEMO_INSTITUTIONS = (
    *CORE_INSTITUTIONS,
    InstitutionPlan("insu", "오픈생명보험", "1018100004"),
    InstitutionPlan("invest", "오픈증권", "1018100005"),
    InstitutionPlan("efin", "오픈페이", "1018100006"),
)
# One institution per sector the sandbox generates (the conformance demo checks each).
SECTOR_INSTITUTIONS = {
    "bank": InstitutionPlan("bank", "오픈은행", "1018100001"),
    "card": InstitutionPlan("card", "오픈카드", "1018100002"),
    "telecom": InstitutionPlan("telecom", "오픈텔레콤", "1018100003"),
    "insu": InstitutionPlan("insu", "오픈생명보험", "1018100004"),
    "invest": InstitutionPlan("invest", "오픈증권", "1018100005"),
    "efin": InstitutionPlan("efin", "오픈페이", "1018100006"),
    "capital": InstitutionPlan("capital", "오픈캐피탈", "1018100007"),
    "ginsu": InstitutionPlan("ginsu", "오픈보증보험", "1018100008"),
    "p2p": InstitutionPlan("p2p", "오픈P2P", "1018100011"),
    "bond": InstitutionPlan("bond", "오픈채권", "1018100012"),
    "usury": InstitutionPlan("usury", "오픈대부", "1018100013"),
    # not a sector of its own: a telecom operator on the nationwide standard's profile
    "telecom-nationwide": InstitutionPlan(
        "telecom", "오픈텔레콤(전국)", "1018100015", holder_name="provider-telecom-nationwide", profile="nationwide"
    ),
}


@dataclass
class ProviderProcess:
    """A provider running in a process of its own (`openmydata serve provider`), as institutions do in production:
    its request handling does not share the operator's CPU and event loop."""

    name: str
    host: str
    port: int
    process: asyncio.subprocess.Process

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), timeout=15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def settings_environment(settings: ServiceSettings) -> dict[str, str]:
    """The settings given explicitly, as the environment variables (OPENMYDATA_PROVIDER_…, OPENMYDATA_OPERATOR_…)
    the participant's command (`openmydata serve provider`, `openmydata operator worker`) reads them from."""
    prefix = str(settings.model_config.get("env_prefix") or "")
    env: dict[str, str] = {}
    for name in settings.model_fields_set:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, list | dict):
            text = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, Enum):
            text = str(value.value)
        else:
            text = str(value)
        env[f"{prefix}{name.upper()}"] = text
    return env


async def _start_provider_process(name: str, settings: ProviderSettings, sock: socket.socket) -> ProviderProcess:
    """`openmydata serve provider` on the reserved socket (inherited), waiting until it accepts connections."""
    port = port_of(sock)
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENMYDATA_PROVIDER_")}
    env.update(settings_environment(settings))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "openmydata.cli",
        "serve",
        "provider",
        "--fd",
        str(sock.fileno()),
        "--log-level",
        "warning",
        env=env,
        pass_fds=(sock.fileno(),),
        stdin=asyncio.subprocess.DEVNULL,
    )
    sock.close()  # the child holds it now
    deadline = time.monotonic() + 600  # fifty start side by side on two cores: imports and migrations take a while
    while True:
        if process.returncode is not None:
            raise RuntimeError(f"provider {name} exited during start-up ({process.returncode})")
        try:
            _reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"provider {name} did not start") from None
            await asyncio.sleep(0.2)
            continue
        writer.close()
        with suppress(OSError):
            await writer.wait_closed()
        return ProviderProcess(name, HOST, port, process)


@dataclass
class ProviderHandle:
    sector: str
    name: str
    org_code: str
    database_url: str
    server: RunningServer | ProviderProcess  # HTTPS, mutual TLS: operators only
    # plain HTTP on loopback: the pages a person's browser visits (개별인증-001 login and asset selection)
    public: RunningServer | None = None
    holder_name: str = ""  # its certificate's holder in the CertificateStore
    behind_relay: bool = False  # operators reach it through the ecosystem's relay (`Ecosystem.relay`)
    relay_url: str = ""
    profile: str = "financial"  # the standard its information APIs follow (`ProviderSettings.standard_profile`)
    # what it was started with (benchmarks restart a provider process from it: `settings_environment`)
    settings: ProviderSettings | None = None

    @property
    def label(self) -> str:
        """A name unique in the ecosystem: `bank`, `telecom-nationwide`, `bank-07`."""
        return self.holder.removeprefix("provider-")

    @property
    def api_url(self) -> str:
        """Where operators call it: the relay's address for an institution behind the relay, else its own."""
        return self.relay_url if self.behind_relay else self.server.url

    @property
    def holder(self) -> str:
        return self.holder_name or f"provider-{self.sector}"

    @property
    def public_url(self) -> str:
        """Where the operator sends the person's browser for 개별인증-001 (the public listener)."""
        assert self.public is not None, "the provider has no public listener"
        return self.public.url


@dataclass
class Ecosystem:
    """A running ecosystem. `portal`, `certauth` and `operator` are the listeners for people and administrators
    (plain HTTP on loopback); `*_peer` the mutual-TLS listeners participants call each other on."""

    data_dir: Path
    seed: int
    as_of: date
    portal: RunningServer
    certauth: RunningServer
    operator: RunningServer
    providers: list[ProviderHandle]
    people: list[Person]
    operator_org_code: str
    operator_settings: OperatorSettings
    admin_key: str = ""
    servers: list[RunningServer | ProviderProcess] = field(default_factory=list)
    portal_peer: RunningServer | None = None
    certauth_peer: RunningServer | None = None
    operator_peer: RunningServer | None = None
    certificates: CertificateStore | None = None
    holders: list[Holder] = field(default_factory=list)
    peer_check: str = "serial"
    relay: RunningServer | None = None  # the relay (중계기관) fronting the institutions `behind_relay`
    relay_org_code: str | None = None

    @property
    def operator_url(self) -> str:
        return self.operator.url

    def customers_of_all(self) -> list[Person]:
        """People who are customers of every demo institution (the smoke run's candidates)."""
        return [
            person
            for person in self.people
            if all(is_customer(person, p.sector, p.org_code, self.seed) for p in self.providers)  # type: ignore[arg-type]
        ]

    def holder(self, name: str) -> Holder:
        return next(holder for holder in self.holders if holder.name == name)

    def client_as(self, name: str, *, timeout_s: float = 30.0) -> httpx.AsyncClient:
        """An HTTPS client presenting participant `name`'s current certificate (tests and the smoke run use it to
        call providers the way that participant would)."""
        assert self.certificates is not None
        return make_client(timeout_s=timeout_s, tls=TlsIdentity(self.certificates.files(name)))

    async def rotate(self, names: list[str] | None = None) -> dict[str, str]:
        """Issue new certificates (same SERIALNUMBER), register them at the portal and return name → new
        fingerprint; participants pick them up within their reload interval."""
        assert self.certificates is not None
        rotated: dict[str, str] = {}
        async with make_client() as http:
            for holder in self.holders:
                if names is not None and holder.name not in names:
                    continue
                certificate = self.certificates.issue(holder)
                # The portal is the registry, not in it: operators know its SERIALNUMBER from their settings.
                if holder.name != "portal":
                    await register_certificate(http, self.portal.url, self.admin_key, holder.org_code, certificate)
                rotated[holder.name] = certificate_fingerprint(certificate)
        return rotated

    async def stop(self) -> None:
        for server in reversed(self.servers):
            await server.stop()


async def _register(http: httpx.AsyncClient, portal_url: str, admin_key: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(f"{portal_url}/admin/orgs", json=body, headers={"x-admin-key": admin_key})
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


PORTAL_REGNO = "1018100000"
PORTAL_ORG_CODE = "W1PRTL0000"
# Participants pick up rotated certificate files this often in the demo (production default: 60 s).
DEMO_TLS_RELOAD_S = 0.5


def _tls_settings(store: CertificateStore, name: str, peer_check: str) -> dict[str, Any]:
    files = store.files(name)
    return {
        "tls_cert_file": files.cert_file,
        "tls_key_file": files.key_file,
        "tls_ca_file": files.ca_file,
        "tls_reload_interval_s": DEMO_TLS_RELOAD_S,
        "peer_check": peer_check,
    }


async def _serve_both(
    name: str, app: Any, store: CertificateStore, *, peer: socket.socket, public: socket.socket | None = None
) -> tuple[RunningServer, RunningServer | None]:
    """The participant's mutual-TLS listener (which runs the app's lifespan) and, when `public` is given, a
    plain-HTTP listener on the same app for people and administrators. The sockets come from `reserve_port`: their
    ports were registered at the portal before the servers start, and nobody else can take them meanwhile."""
    peer_server = await start_tls_server(
        f"{name}:tls",
        app,
        identity=TlsIdentity(store.files(name)),
        host=HOST,
        sock=peer,
        reload_interval_s=DEMO_TLS_RELOAD_S,
    )
    public_server = None
    if public is not None:
        public_server = await start_server(name, app, host=HOST, sock=public, lifespan="off")
    return peer_server, public_server


async def start_ecosystem(
    data_dir: Path,
    *,
    people: int = 1000,
    seed: int = 42,
    as_of: date | None = None,
    progress: Progress | None = None,
    database_url: Callable[[str], str] | None = None,
    pin_kdf_cost: int = 2**14,
    peer_check: str = "serial",
    institutions: tuple[InstitutionPlan, ...] = DEMO_INSTITUTIONS,
    provider_overrides: Mapping[str, Any] | None = None,
    provider_processes: bool = False,
    operator_overrides: Mapping[str, Any] | None = None,
) -> Ecosystem:
    """Start portal, certauth, one provider per demo institution and the operator, each with its own database
    (SQLite files under `data_dir` unless `database_url(name)` gives another URL per participant), registered at
    the portal with their own TLS certificates, talking to each other over mutual TLS 1.3, and seeded with
    `people` synthetic people. `provider_overrides` are extra `ProviderSettings` for every provider (benchmarks
    inject latency with them), `operator_overrides` extra `OperatorSettings`. With `provider_processes` every
    provider runs in a process of its own (`openmydata serve provider`, mutual TLS listener only: no 개별인증 login
    pages), as institutions do in production."""
    servers: list[RunningServer | ProviderProcess] = []
    try:
        return await _start_ecosystem(
            servers,
            data_dir,
            people=people,
            seed=seed,
            as_of=as_of,
            progress=progress,
            database_url=database_url,
            pin_kdf_cost=pin_kdf_cost,
            peer_check=peer_check,
            institutions=institutions,
            provider_overrides=provider_overrides,
            provider_processes=provider_processes,
            operator_overrides=operator_overrides,
        )
    except BaseException:
        # Whatever started is stopped again: servers in this loop, and provider processes, which would outlive it.
        for server in reversed(servers):
            with suppress(Exception):
                await server.stop()
        raise


async def _start_ecosystem(
    servers: list[RunningServer | ProviderProcess],
    data_dir: Path,
    *,
    people: int,
    seed: int,
    as_of: date | None,
    progress: Progress | None,
    database_url: Callable[[str], str] | None,
    pin_kdf_cost: int,
    peer_check: str,
    institutions: tuple[InstitutionPlan, ...],
    provider_overrides: Mapping[str, Any] | None,
    provider_processes: bool,
    operator_overrides: Mapping[str, Any] | None,
) -> Ecosystem:
    report = progress or (lambda _d, _c, _t: None)
    db_url = database_url or (lambda name: sqlite_url(data_dir / f"{name}.db"))
    as_of = as_of or today_kst()
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    admin_key = secrets.token_urlsafe(24)
    store = CertificateStore(data_dir / "tls")
    portal_holder = Holder("portal", PORTAL_ORG_CODE, PORTAL_REGNO, "마이데이터 종합포털")
    await asyncio.to_thread(store.issue, portal_holder)

    portal_app = create_portal(
        PortalSettings(
            org_code=PORTAL_ORG_CODE,
            database_url=db_url("portal"),
            data_dir=data_dir / "portal",
            admin_key=admin_key,
            **_tls_settings(store, "portal", peer_check),
        )
    )
    portal_peer, portal_public = await _serve_both(
        "portal", portal_app, store, peer=reserve_port(HOST), public=reserve_port(HOST)
    )
    assert portal_public is not None
    portal = portal_public
    servers += [portal_peer, portal]
    certauth_socket, certauth_public_socket = reserve_port(HOST), reserve_port(HOST)
    operator_socket, operator_public_socket = reserve_port(HOST), reserve_port(HOST)
    provider_sockets = [reserve_port(HOST) for _ in institutions]
    relayed = [plan for plan in institutions if plan.behind_relay]
    relay_socket = reserve_port(HOST) if relayed else None
    relay_url = f"https://{HOST}:{port_of(relay_socket)}" if relay_socket is not None else ""
    certauth_port, certauth_public_port = port_of(certauth_socket), port_of(certauth_public_socket)
    operator_port, operator_public_port = port_of(operator_socket), port_of(operator_public_socket)
    provider_ports = [port_of(sock) for sock in provider_sockets]
    certauth_url = f"https://{HOST}:{certauth_port}"
    operator_url = f"https://{HOST}:{operator_port}"
    holders = [portal_holder]

    async with make_client() as http:
        ca = await _register(
            http,
            portal.url,
            admin_key,
            {
                "org_name": "오픈인증",
                "org_type": "06",
                "industries": [],
                "domain": certauth_url,
                "org_regno": "1018100009",
                "auth_type": "01",
            },
        )
        holders.append(Holder("certauth", ca["org_code"], "1018100009", "오픈인증"))
        relay_reg: dict[str, Any] | None = None
        if relayed:
            relay_reg = await _register(
                http,
                portal.url,
                admin_key,
                {
                    "org_name": RELAY_PLAN.name,
                    "org_type": "04",
                    "industries": sorted({plan.sector for plan in relayed}),
                    "domain": relay_url,
                    "org_regno": RELAY_PLAN.regno,
                    "auth_type": "01",
                },
            )
            holders.append(Holder("relay", relay_reg["org_code"], RELAY_PLAN.regno, RELAY_PLAN.name))
        provider_regs = [
            await _register(
                http,
                portal.url,
                admin_key,
                {
                    "org_name": plan.name,
                    "org_type": "02" if plan.behind_relay else "01",
                    "industries": [plan.sector],
                    "domain": relay_url if plan.behind_relay else f"https://{HOST}:{port}",
                    "org_regno": plan.regno,
                    "auth_type": "01",
                    **({"relay_org_code": relay_reg["org_code"]} if plan.behind_relay and relay_reg else {}),
                },
            )
            for plan, port in zip(institutions, provider_ports, strict=True)
        ]
        holders += [
            Holder(plan.holder, reg["org_code"], plan.regno, plan.name)
            for plan, reg in zip(institutions, provider_regs, strict=True)
        ]
        operator_reg = await _register(
            http,
            portal.url,
            admin_key,
            {
                "org_name": "오픈마이데이터",
                "org_type": "03",
                "industries": [],
                "domain": operator_url,
                "org_regno": "1018100010",
                "auth_type": "01",
            },
        )
        holders.append(Holder("operator", operator_reg["org_code"], "1018100010", "오픈마이데이터"))
        for holder in holders[1:]:
            certificate = await asyncio.to_thread(store.issue, holder)
            await register_certificate(http, portal.url, admin_key, holder.org_code, certificate)
        save_state(
            data_dir,
            {
                "portal_admin_url": portal.url,
                "admin_key": admin_key,
                "peer_check": peer_check,
                "holders": [holder.__dict__ for holder in holders],
            },
        )
        service_response = await http.post(
            f"{portal.url}/admin/services",
            json={
                "org_code": operator_reg["org_code"],
                "service_name": "오픈마이데이터 자산관리",
                "redirect_uri": f"http://{HOST}:{operator_public_port}/oauth/callback",
            },
            headers={"x-admin-key": admin_key},
        )
        service_response.raise_for_status()
        service = service_response.json()

        certauth_peer, certauth_public = await _serve_both(
            "certauth",
            create_certauth(
                CertAuthSettings(
                    org_code=ca["org_code"],
                    database_url=db_url("certauth"),
                    public_url=f"http://{HOST}:{certauth_public_port}",
                    data_dir=data_dir / "certauth",
                    admin_key=admin_key,
                    portal_url=portal_peer.url,
                    support_client_id=ca["support_client_id"],
                    support_client_secret=ca["support_client_secret"],
                    pin_kdf_cost=pin_kdf_cost,
                    **_tls_settings(store, "certauth", peer_check),
                )
            ),
            store,
            peer=certauth_socket,
            public=certauth_public_socket,
        )
        assert certauth_public is not None
        certauth = certauth_public
        servers += [certauth_peer, certauth]

        population = generate_people(people, seed, as_of)
        batch = 500
        for start in range(0, len(population), batch):
            chunk = population[start : start + batch]
            response = await http.post(
                f"{certauth.url}/admin/persons",
                json=people_for_certauth(chunk),
                headers={"x-admin-key": admin_key},
                timeout=120,
            )
            response.raise_for_status()
            report("certificates", start + len(chunk), len(population))

    # Each person's PIN hashed once (scrypt) for the login pages of every institution they are a customer of.
    login_hashes = await asyncio.to_thread(
        lambda: {person.ci: hash_login_pin(person.pin, pin_kdf_cost) for person in population}
    )
    providers: list[ProviderHandle] = []
    plans = list(zip(institutions, provider_ports, provider_sockets, provider_regs, strict=True))
    provider_settings = [
        ProviderSettings(
            org_code=reg["org_code"],
            org_name=plan.name,
            industries=[plan.sector],
            database_url=db_url(f"provider-{reg['org_code']}"),
            public_url=f"https://{HOST}:{port}",
            portal_url=portal_peer.url,
            certauth_url=certauth_url,
            ca_code=ca["org_code"],
            support_client_id=reg["support_client_id"],
            support_client_secret=reg["support_client_secret"],
            ca_client_id=reg["ca_client_id"],
            ca_client_secret=reg["ca_client_secret"],
            portal_client_id=reg["portal_client_id"],
            portal_client_secret=reg["portal_client_secret"],
            portal_org_code=PORTAL_ORG_CODE,
            portal_serial_num=PORTAL_REGNO,
            relay_org_codes=[relay_reg["org_code"]] if plan.behind_relay and relay_reg else [],
            standard_profile=plan.profile,
            **_tls_settings(store, plan.holder, peer_check),
            **(provider_overrides or {}),
        )
        for plan, port, _sock, reg in plans
    ]
    processes: list[ProviderProcess] = []
    if provider_processes:
        # Each institution in its own process, started side by side (each one's start-up is mostly imports).
        processes = list(
            await asyncio.gather(
                *(
                    _start_provider_process(plan.holder, settings, sock)
                    for (plan, _port, sock, _reg), settings in zip(plans, provider_settings, strict=True)
                )
            )
        )
        servers += processes
    for index, (plan, _port, sock, reg) in enumerate(plans):
        settings = provider_settings[index]
        provider_db_url = settings.database_url
        server: RunningServer | ProviderProcess
        public: RunningServer | None = None
        if provider_processes:
            server = processes[index]
        else:
            server, public = await _serve_both(
                plan.holder, create_provider(settings), store, peer=sock, public=reserve_port(HOST)
            )
            assert public is not None
            servers += [server, public]
        providers.append(
            ProviderHandle(
                plan.sector,
                plan.name,
                reg["org_code"],
                provider_db_url,
                server,
                public,
                plan.holder,
                plan.behind_relay,
                relay_url if plan.behind_relay else "",
                plan.profile,
                settings,
            )
        )
        db = Database(provider_db_url)
        sector = cast(SectorName, plan.sector)
        customer_count = sum(is_customer(person, sector, reg["org_code"], seed) for person in population)
        try:
            catalogue = CATALOGUE.for_profile(plan.profile)
            customers = generate_customers(
                population,
                sector=sector,
                org_code=reg["org_code"],
                seed=seed,
                as_of=as_of,
                catalogue=catalogue,
            )
            await import_customers(
                db,
                customers,
                catalogue=catalogue,
                batch_size=100,
                progress=functools.partial(_report_customers, report, f"{plan.sector} customers", customer_count),
            )
            # The institution's own login (개별인증-001): the sandbox person's PIN, for its customers.
            await import_login_hashes(db, login_hashes)
        finally:
            await db.dispose()

    relay: RunningServer | None = None
    if relay_reg is not None and relay_socket is not None:
        relay, _ = await _serve_both(
            "relay",
            create_relay_app(
                RelaySettings(
                    org_code=relay_reg["org_code"],
                    public_url=relay_url,
                    portal_url=portal_peer.url,
                    support_client_id=relay_reg["support_client_id"],
                    support_client_secret=relay_reg["support_client_secret"],
                    fronted={p.org_code: p.server.url for p in providers if p.behind_relay},
                    **_tls_settings(store, "relay", peer_check),
                )
            ),
            store,
            peer=relay_socket,
        )
        servers.append(relay)
    operator_settings = OperatorSettings(
        org_code=operator_reg["org_code"],
        database_url=db_url("operator"),
        public_url=f"http://{HOST}:{operator_public_port}",
        portal_url=portal_peer.url,
        certauth_url=certauth_url,
        ca_code=ca["org_code"],
        support_client_id=operator_reg["support_client_id"],
        support_client_secret=operator_reg["support_client_secret"],
        ca_client_id=operator_reg["ca_client_id"],
        ca_client_secret=operator_reg["ca_client_secret"],
        service_client_id=service["client_id"],
        service_client_secret=service["client_secret"],
        portal_client_id=operator_reg["portal_client_id"],
        portal_client_secret=operator_reg["portal_client_secret"],
        portal_org_code=PORTAL_ORG_CODE,
        portal_serial_num=PORTAL_REGNO,
        session_secret=secrets.token_urlsafe(32),
        key_file=data_dir / "operator-keys.json",
        provider_public_urls={p.org_code: p.public_url for p in providers if p.public is not None},
        provider_profiles={p.org_code: p.profile for p in providers if p.profile != "financial"},
        **_tls_settings(store, "operator", peer_check),
        **(operator_overrides or {}),
    )
    operator_peer, operator_public = await _serve_both(
        "operator",
        create_operator(operator_settings),
        store,
        peer=operator_socket,
        public=operator_public_socket,
    )
    assert operator_public is not None
    servers += [operator_peer, operator_public]
    return Ecosystem(
        data_dir=data_dir,
        seed=seed,
        as_of=as_of,
        portal=portal,
        certauth=certauth,
        operator=operator_public,
        providers=providers,
        people=population,
        operator_org_code=operator_reg["org_code"],
        operator_settings=operator_settings,
        admin_key=admin_key,
        servers=servers,
        portal_peer=portal_peer,
        certauth_peer=certauth_peer,
        operator_peer=operator_peer,
        certificates=store,
        holders=holders,
        peer_check=peer_check,
        relay=relay,
        relay_org_code=relay_reg["org_code"] if relay_reg is not None else None,
    )


IDENTIFYING_FIELDS = (
    "account_num",
    "card_num",
    "card_id",
    "telecom_num",
    "mgmt_id",
    "holder_name",
    "repay_account_num",
)


def personal_identifiers(records: list[Any]) -> set[str]:
    """Account, card and line numbers (and holder names) among a person's records at a provider."""
    found: set[str] = set()
    for record in records:
        for name in IDENTIFYING_FIELDS:
            value = record.payload.get(name)
            if isinstance(value, str) and len(value) >= 6 and "*" not in value:
                found.add(value)
    return found


def _plaintext_found(database_url: str, values: set[str]) -> int | None:
    """How many of `values` appear in clear in the raw bytes of a SQLite database (and its WAL and SHM files);
    None for a server database, whose files this process cannot read."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    path = Path(url.database)
    blobs = [
        candidate.read_bytes() for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if candidate.exists()
    ]
    return sum(1 for value in values if value and any(value.encode("utf-8") in blob for blob in blobs))


def _report_customers(report: Progress, description: str, total: int, done: int) -> None:
    report(description, done, total)


class SmokeFailure(Exception):
    """A step of the smoke run did not hold."""


def expect_json(response: httpx.Response, step: str) -> dict[str, Any]:
    if response.status_code >= 400:
        raise SmokeFailure(f"{step}: HTTP {response.status_code} {response.text[:300]}")
    body: dict[str, Any] = response.json()
    return body


def provider_record_keys(org_code: str, records: list[Any]) -> set[tuple[str, str, str, str]]:
    """What the operator should hold after collecting these provider records (exported in serving order): one
    entry per record, keyed the way the catalogue says a receiver keys it (record_key, repeats numbered per
    retrieval; a month-selected API such as 통신-002 by its month)."""
    keys: set[tuple[str, str, str, str]] = set()
    keyers: dict[tuple[str, str], NaturalKeys] = {}
    for record in records:
        spec = CATALOGUE[record.api_id]
        if spec.kind is Kind.ASSET_LIST:
            keyer = keyers.setdefault((spec.id, ""), NaturalKeys(spec.record_key or (spec.asset_id_field or "",)))
            keys.add((org_code, spec.id, "", keyer(record.payload)))
            continue
        key = record.key
        if spec.period_field and spec.period_field not in spec.key_fields:
            key = "|".join(part for part in (record.key, record.period) if part)
        if spec.kind is Kind.ASSET_INFO:
            keys.add((org_code, spec.id, key, ""))
            continue
        # One retrieval covers one selected key (and, for month-selected APIs, one month).
        keyer = keyers.setdefault((spec.id, key), NaturalKeys(spec.record_key))
        keys.add((org_code, spec.id, key, keyer(record.payload)))
    return keys


async def expected_record_keys(
    eco: Ecosystem, person: Person, org_codes: Iterable[str]
) -> set[tuple[str, str, str, str]]:
    """What the operator should hold for `person` from these providers, read from each provider's own database."""
    wanted = set(org_codes)
    expected: set[tuple[str, str, str, str]] = set()
    for provider in eco.providers:
        if provider.org_code not in wanted:
            continue
        db = Database(provider.database_url)
        try:
            expected |= provider_record_keys(provider.org_code, await export_customer_records(db, person.ci))
        finally:
            await db.dispose()
    return expected


def held_record_keys(records: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str, str]]:
    """The keys of what the operator answered on /api/me/records (duplicates kept, to be counted)."""
    return [(r["org_code"], r["api_id"], r["key"], r["record_key"]) for r in records]


async def _portal_consents(http: httpx.AsyncClient, eco: Ecosystem, ci: str, step: str) -> int:
    """How many currently valid consents the portal's look-up (지원-103 at every operator) finds for `ci` at the
    demo operator."""
    body = expect_json(
        await http.post(
            f"{eco.portal.url}/admin/consents", json={"user_ci": ci}, headers={"x-admin-key": eco.admin_key}
        ),
        step,
    )
    answers = [entry for entry in body["operators"] if entry["org_code"] == eco.operator_org_code]
    if len(answers) != 1 or "error" in answers[0]:
        raise SmokeFailure(f"{step}: no answer from the operator ({answers})")
    return sum(int(service["consent_cnt"]) for service in answers[0]["service_list"])


async def connect_person(
    http: httpx.AsyncClient,
    eco: Ecosystem,
    person: Person,
    org_codes: list[str] | None = None,
    *,
    wait: bool = True,
) -> tuple[dict[str, str], dict[str, Any]]:
    """What a person does in the operator's app: sign up (identity approved at the CA with the PIN), consent to every
    demo provider (or those of `org_codes`) with one signature, and (with `wait`) wait for the first collection.
    Returns the session's Authorization header and the operator's answer to the completed consent (one entry per
    provider)."""
    api = eco.operator.url

    async def approve(approval: dict[str, Any], step: str) -> None:
        tx = approval["cert_tx_id"]
        expect_json(
            await http.post(
                f"{eco.certauth.url}/v1/ca/approvals/{tx}", json={"pin": person.pin, "decision": "approve"}
            ),
            f"{step} approval",
        )

    signup = expect_json(
        await http.post(
            f"{api}/api/signup", json={"name": person.name, "birth_date": person.birth_date, "phone": person.phone}
        ),
        "sign-up",
    )
    await approve(signup, "sign-up")
    session = expect_json(
        await http.post(f"{api}/api/signup/complete", json={"cert_tx_id": signup["cert_tx_id"]}), "sign-up complete"
    )
    auth = {"Authorization": f"Bearer {session['session_token']}"}
    listed = expect_json(await http.get(f"{api}/api/providers"), "provider list")
    wanted = set(org_codes) if org_codes is not None else {p.org_code for p in eco.providers}
    chosen = [p["org_code"] for p in listed["providers"] if p["org_code"] in wanted]
    if set(chosen) != wanted:
        raise SmokeFailure(f"operator lists {len(chosen)} of {len(wanted)} providers")
    consent = expect_json(await http.post(f"{api}/api/consents", json={"org_codes": chosen}, headers=auth), "consent")
    await approve(consent, "consent")
    completed = expect_json(
        await http.post(
            f"{api}/api/consents/complete",
            json={"cert_tx_id": consent["cert_tx_id"]},
            params={"wait": "true" if wait else "false"},
            headers=auth,
        ),
        "integrated authentication and collection",
    )
    return auth, completed


async def run_smoke(eco: Ecosystem) -> dict[str, Any]:
    """Drive the whole flow for one seeded person and report what held (the keys `--smoke` prints)."""
    summary: dict[str, Any] = {"ok": False, "providers": len(eco.providers)}
    candidates = eco.customers_of_all()
    if not candidates:
        raise SmokeFailure("no seeded person is a customer of every demo institution")
    person = candidates[0]
    api = eco.operator.url
    async with make_client(timeout_s=120) as http:
        started = time.perf_counter()
        auth, completed = await connect_person(http, eco, person)
        summary["collection_s"] = round(time.perf_counter() - started, 3)
        summary["integrated_auth_ok"] = sum(1 for p in completed["providers"] if p.get("ok"))

        expected: set[tuple[str, str, str, str]] = set()
        personal = {person.ci, person.name, person.phone, person.birth_date}
        for provider in eco.providers:
            db = Database(provider.database_url)
            try:
                exported = await export_customer_records(db, person.ci)
            finally:
                await db.dispose()
            expected |= provider_record_keys(provider.org_code, exported)
            personal |= personal_identifiers(exported)
        pii_before = await asyncio.to_thread(_plaintext_found, eco.operator_settings.database_url, personal)
        held = expect_json(await http.get(f"{api}/api/me/records", headers=auth), "records")["records"]
        collected = {(r["org_code"], r["api_id"], r["key"], r["record_key"]) for r in held}
        summary["records_expected"] = len(expected)
        summary["records_collected"] = len(collected)
        summary["records_missing"] = len(expected - collected)
        summary["records_unexpected"] = len(collected - expected)
        if os.environ.get("OPENMYDATA_SMOKE_DEBUG"):
            print("missing", sorted(expected - collected)[:20], "unexpected", sorted(collected - expected)[:20])

        summary["portal_consents_before"] = await _portal_consents(http, eco, person.ci, "portal look-up before")
        summary["mtls"] = await _mtls_everywhere(eco)
        held_before = await holdings(eco.operator_settings, person.ci)
        summary.update(await _rotation_and_binding(eco, http, auth, person.ci, held_before.access_tokens))
        held_before = await holdings(eco.operator_settings, person.ci)
        old_tokens = held_before.access_tokens
        withdraw_started = time.perf_counter()
        withdrawal = expect_json(await http.post(f"{api}/api/withdraw", headers=auth), "withdrawal")
        summary["revoke_rsp_codes"] = sorted({r["rsp_code"] for r in withdrawal["revoked"]})
        as_operator = eco.client_as("operator")

        async def old_token_answer(provider: ProviderHandle) -> str | None:
            token = old_tokens.get(provider.org_code)
            if token is None:
                raise SmokeFailure(f"no token was stored for {provider.org_code}")
            return await _asset_list_code(eco, as_operator, provider, token)

        # Withdrawal propagation: from the person's click until every provider refuses the old token.
        codes: set[str | None] = set()
        pending = list(eco.providers)
        deadline = withdraw_started + 10.0
        while pending:
            answers = await asyncio.gather(*(old_token_answer(provider) for provider in pending))
            refused = [p for p, code in zip(pending, answers, strict=True) if code == "40101"]
            codes.update(code for code in answers if code == "40101")
            pending = [p for p in pending if p not in refused]
            if pending and time.perf_counter() > deadline:
                codes.update(answers)
                break
            if pending:
                await asyncio.sleep(0.01)
        summary["withdrawal_propagation_ms"] = round((time.perf_counter() - withdraw_started) * 1000, 1)
        await as_operator.aclose()
        summary["portal_consents_after"] = await _portal_consents(http, eco, person.ci, "portal look-up after")
        pii_after = await asyncio.to_thread(_plaintext_found, eco.operator_settings.database_url, personal)
        summary["plaintext_pii_found"] = None if pii_before is None or pii_after is None else pii_before + pii_after
        summary["revoked_token_rsp_code"] = codes.pop() if len(codes) == 1 else sorted(codes)
        assert held_before.person_id is not None
        summary["operator_records_after_withdrawal"] = withdrawal["records_remaining"] + await rows_held(
            eco.operator_settings, held_before.person_id
        )

    summary["ok"] = bool(
        summary["integrated_auth_ok"] == len(eco.providers)
        and summary["records_expected"] > 0
        and summary["records_collected"] == summary["records_expected"]
        and summary["records_missing"] == 0
        and summary["records_unexpected"] == 0
        and summary["revoked_token_rsp_code"] == "40101"
        and summary["operator_records_after_withdrawal"] == 0
        and summary["plaintext_pii_found"] in (0, None)
        and summary["portal_consents_before"] == len(eco.providers)
        and summary["portal_consents_after"] == 0
        and summary["mtls"] is True
        and summary["token_bound_to_client_cert"] is True
        and summary["certificates_rotated"] == len(eco.holders)
        and summary["collection_after_rotation_ok"] is True
        and summary["rotation_picked_up_ms"] is not None
    )
    return summary


async def _asset_list_code(eco: Ecosystem, http: httpx.AsyncClient, provider: ProviderHandle, token: str) -> str | None:
    """The rsp_code of the provider's asset-list API for `token`, called over `http` (whose certificate decides
    whether a bound token is accepted)."""
    spec = CATALOGUE.asset_list_api(provider.sector)
    response = await http.request(
        spec.method,
        f"{provider.api_url}{spec.path}",
        params={"org_code": provider.org_code, "limit": "10"},
        headers={
            "Authorization": f"Bearer {token}",
            "x-api-tran-id": f"{eco.operator_org_code}M{secrets.token_hex(7).upper()}",
            "x-api-type": "user-refresh",
        },
    )
    code = response.json().get("rsp_code")
    return str(code) if code is not None else None


def _peer_listeners(eco: Ecosystem) -> list[tuple[str, RunningServer | ProviderProcess]]:
    listeners = [(provider.holder, provider.server) for provider in eco.providers]
    for name, server in (
        ("portal", eco.portal_peer),
        ("certauth", eco.certauth_peer),
        ("operator", eco.operator_peer),
        ("relay", eco.relay),
    ):
        if server is not None:
            listeners.append((name, server))
    return listeners


async def _mtls_everywhere(eco: Ecosystem) -> bool:
    """Every participant listener that peers call is HTTPS, every participant is configured to call the others over
    HTTPS, and each listener refuses a TLS client without a certificate."""
    listeners = _peer_listeners(eco)
    if len(listeners) != len(eco.holders):
        return False
    settings = eco.operator_settings
    if settings.insecure_plain_http or not all(
        url.startswith("https://") for url in (settings.portal_url, settings.certauth_url)
    ):
        return False
    assert eco.certificates is not None
    anonymous = ssl.create_default_context(cafile=str(eco.certificates.ca_file))
    for _name, server in listeners:
        if not server.url.startswith("https://"):
            return False
        async with httpx.AsyncClient(verify=anonymous, trust_env=False, timeout=10) as http:
            try:
                await http.get(f"{server.url}/v1/mgmts/status")
            except httpx.TransportError:
                continue  # refused: no client certificate
            return False
    return True


async def _presented_fingerprint(eco: Ecosystem, server: RunningServer | ProviderProcess) -> str | None:
    """The fingerprint of the certificate `server` presents on a new connection."""
    async with eco.client_as("portal", timeout_s=10) as http:
        try:
            response = await http.get(f"{server.url}/openapi.json")
        except httpx.TransportError:
            return None
        stream = response.extensions.get("network_stream")
        ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        return hashlib.sha256(der).hexdigest() if der else None


async def _rotation_and_binding(
    eco: Ecosystem, http: httpx.AsyncClient, auth: dict[str, str], ci: str, tokens: dict[str, str]
) -> dict[str, Any]:
    """RFC 8705 binding and certificate rotation, measured:
    - the operator's access token works over a connection with the operator's certificate;
    - every participant gets a new certificate (same SERIALNUMBER, registered at the portal) and every listener
      presents it on new connections without a restart (`rotation_picked_up_ms`);
    - the old token presented with the operator's new certificate is refused (40101): it is bound to the old one;
    - the operator's next collection refreshes its tokens (bound to the new certificate), and they work."""
    result: dict[str, Any] = {}
    before: dict[str, str | None] = {}
    async with eco.client_as("operator") as old_cert:
        for provider in eco.providers:
            before[provider.org_code] = await _asset_list_code(eco, old_cert, provider, tokens[provider.org_code])
    started = time.perf_counter()
    rotated = await eco.rotate()
    result["certificates_rotated"] = len(rotated)
    pending = dict(_peer_listeners(eco))
    deadline = started + 30.0
    while pending and time.perf_counter() < deadline:
        for name, server in list(pending.items()):
            if await _presented_fingerprint(eco, server) == rotated.get(name):
                del pending[name]
        if pending:
            await asyncio.sleep(0.1)
    result["rotation_picked_up_ms"] = round((time.perf_counter() - started) * 1000, 1) if not pending else None
    after: dict[str, str | None] = {}
    async with eco.client_as("operator") as new_cert:
        for provider in eco.providers:
            after[provider.org_code] = await _asset_list_code(eco, new_cert, provider, tokens[provider.org_code])
        result["token_bound_to_client_cert"] = all(code == "00000" for code in before.values()) and all(
            code == "40101" for code in after.values()
        )
        collected = expect_json(await http.post(f"{eco.operator.url}/api/me/refresh", headers=auth), "refresh")
        result["records_after_rotation"] = sum(int(count) for count in collected["collected"].values())
        renewed = (await holdings(eco.operator_settings, ci)).access_tokens
        codes = [
            await _asset_list_code(eco, new_cert, provider, renewed[provider.org_code])
            if renewed.get(provider.org_code) not in (None, tokens[provider.org_code])
            else None
            for provider in eco.providers
        ]
        result["collection_after_rotation_ok"] = all(code == "00000" for code in codes)
    return result


async def run(
    data_dir: Path,
    *,
    people: int,
    seed: int,
    smoke: bool,
    progress: Progress | None = None,
    on_ready: Callable[[Ecosystem], None] | None = None,
    pin_kdf_cost: int = DEMO_PIN_KDF_COST,
) -> dict[str, Any] | None:
    eco = await start_ecosystem(data_dir, people=people, seed=seed, progress=progress, pin_kdf_cost=pin_kdf_cost)
    try:
        if smoke:
            return await run_smoke(eco)
        if on_ready:
            on_ready(eco)
        await renew_certificates_forever(eco, RENEWAL_CHECK_S)
        return None
    finally:
        await eco.stop()


RENEWAL_CHECK_S = 3600.0


async def renew_due_certificates(eco: Ecosystem, now: datetime | None = None) -> list[str]:
    """Rotate every certificate inside its renewal window (30 days before expiry); the names rotated."""
    assert eco.certificates is not None
    store = eco.certificates
    due = [holder.name for holder in eco.holders if store.needs_renewal(holder.name, now)]
    if due:
        await eco.rotate(due)
        _logger.info("certificates renewed", participants=due)
    return due


async def renew_certificates_forever(eco: Ecosystem, interval_s: float) -> None:
    """The running demo looks after its certificates: every `interval_s`, renew those close to expiry."""
    while True:
        await renew_due_certificates(eco)
        await asyncio.sleep(interval_s)


async def _richest_customer(eco: Ecosystem, provider: ProviderHandle, exclude: set[str], sample: int = 200) -> Person:
    """Among the first `sample` customers of `provider` not in `exclude` (CIs), the one whose records reach the most
    APIs (so that the conformance run exercises as much as possible)."""
    sector = cast(SectorName, provider.sector)
    candidates = [
        person
        for person in eco.people
        if person.ci not in exclude and is_customer(person, sector, provider.org_code, eco.seed)
    ][:sample]
    if not candidates:
        raise SmokeFailure(f"no seeded person is a customer of {provider.name}")
    db = Database(provider.database_url)
    try:
        reach = [(len({record.api_id for record in await export_customer_records(db, p.ci)}), p) for p in candidates]
    finally:
        await db.dispose()
    return max(reach, key=lambda item: item[0])[1]


async def run_conformance_demo(
    data_dir: Path,
    *,
    sectors: list[str],
    people: int,
    seed: int,
    progress: Progress | None = None,
    pin_kdf_cost: int = DEMO_PIN_KDF_COST,
    through_relay: bool = False,
) -> dict[str, Any]:
    """A demo ecosystem with one provider per sector; for each, a customer connects it at the operator (통합인증),
    and the conformance checker runs against the provider over mutual TLS with the operator's certificate and the
    customer's token. With `through_relay`, every institution sits behind one relay (중계기관) and is checked
    through it. Reports go to `<data_dir>/conformance/`; returns the summary."""
    from openmydata.conformance import run_conformance, write_report

    plans = tuple(replace(SECTOR_INSTITUTIONS[sector], behind_relay=through_relay) for sector in sectors)
    eco = await start_ecosystem(
        data_dir, people=people, seed=seed, progress=progress, pin_kdf_cost=pin_kdf_cost, institutions=plans
    )
    report_dir = data_dir / "conformance"
    per_sector: dict[str, dict[str, Any]] = {}
    try:
        # One person per institution, chosen for the institutions with the fewest customers first (a debt buyer
        # has a handful among hundreds of people; a bank's would otherwise take them).
        customers = {
            provider.org_code: sum(
                is_customer(person, cast(SectorName, provider.sector), provider.org_code, eco.seed)
                for person in eco.people
            )
            for provider in eco.providers
        }
        used: set[str] = set()
        chosen: dict[str, Person] = {}
        for provider in sorted(eco.providers, key=lambda item: customers[item.org_code]):
            chosen[provider.org_code] = await _richest_customer(eco, provider, used)
            used.add(chosen[provider.org_code].ci)
        async with make_client(timeout_s=120) as http, eco.client_as("operator", timeout_s=60) as as_operator:
            for index, provider in enumerate(eco.providers):
                person = chosen[provider.org_code]
                _auth, completed = await connect_person(http, eco, person, [provider.org_code])
                if not all(entry.get("ok") for entry in completed["providers"]):
                    raise SmokeFailure(f"통합인증 failed at {provider.name}: {completed['providers']}")
                token = (await holdings(eco.operator_settings, person.ci)).access_tokens[provider.org_code]
                report = await run_conformance(
                    as_operator,
                    base_url=provider.api_url,
                    org_code=provider.org_code,
                    token=token,
                    sectors=[provider.sector],
                    operator_org_code=eco.operator_org_code,
                    profile=provider.profile,
                )
                await asyncio.to_thread(write_report, report, report_dir, provider.label)
                per_sector[provider.label] = report.totals()
                if progress:
                    progress("conformance", index + 1, len(eco.providers))
    finally:
        await eco.stop()
    failed = sum(int(totals["failed"]) for totals in per_sector.values())
    return {
        "ok": failed == 0,
        "through_relay": through_relay,
        "passed": sum(int(totals["passed"]) for totals in per_sector.values()),
        "failed": failed,
        "checks": sum(int(totals["checks"]) for totals in per_sector.values()),
        "sectors": len(per_sector),
        "apis_checked": sum(int(totals["apis_checked"]) for totals in per_sector.values()),
        "apis_exercised": sum(int(totals["apis_exercised"]) for totals in per_sector.values()),
        "calls": sum(int(totals["calls"]) for totals in per_sector.values()),
        "reports": str(report_dir),
        "per_sector": {
            sector: {key: totals[key] for key in ("passed", "failed", "apis_checked", "not_exercised")}
            for sector, totals in per_sector.items()
        },
    }
