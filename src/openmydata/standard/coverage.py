"""Render `docs/standard-coverage.md` from the catalogue, and check that the committed file is current.

python -m openmydata.standard.coverage --write   # regenerate the file
python -m openmydata.standard.coverage --check   # exit 1 when the file differs from the catalogue
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import ApiSpec, Catalogue, Sector

DOC_PATH = Path(__file__).resolve().parents[3] / "docs" / "standard-coverage.md"

SECTOR_TITLES: dict[Sector, str] = {
    Sector.AUTH: "Authorization (개별인증, 통합인증)",
    Sector.COMMON: "Common (정보제공-공통)",
    Sector.SUPPORT: "Support (지원)",
    Sector.BANK: "Bank (은행)",
    Sector.CARD: "Card (카드)",
    Sector.TELECOM: "Telecom (통신)",
    Sector.INVEST: "Investment (금융투자)",
    Sector.INSU: "Insurance (보험)",
    Sector.EFIN: "E-finance (전자금융)",
    Sector.CAPITAL: "Capital (할부금융)",
    Sector.GINSU: "Guarantee insurance (보증보험)",
    Sector.P2P: "P2P (온라인투자연계금융)",
    Sector.BOND: "Bonds (채권)",
    Sector.USURY: "Money lending (대부)",
}
SHARED_TITLE = "Served under several industries (IRP, 채권)"
PROFILE_TITLES = {"nationwide": "Nationwide standard, telecom (2025 전 분야 마이데이터)"}

HEADER = """\
# Standard coverage

Generated from `openmydata.standard.apis.CATALOGUE` by `python -m openmydata.standard.coverage --write`; do not
edit by hand. A unit test fails when this file is stale.

Every catalogued API is listed with the path it is served at, the scope a token needs, the transmission-cycle
class (기본/추가) and the participant that serves it. The notes column summarises how the catalogue describes the
API's data (paging, search_timestamp, which request fields select records and where a collector finds their
values, sensitive fields); "reading" marks an API where the project chose a reading of a point the standard
leaves unconfirmed, listed in full under [Project readings](#project-readings).
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _summary(spec: ApiSpec) -> str:
    parts: list[str] = [spec.kind.value]
    if spec.is_shared:
        industries = ", ".join(f"`{industry.value}`" for industry in spec.served_under)
        path = spec.path.replace(f"/{spec.sector.value}/", "/<industry>/", 1)
        scope = (spec.scope or "").replace(f"{spec.sector.value}.", "<industry>.", 1)
        parts.append(f"served under {industries} (`{path}`, scope `{scope}`)")
    if spec.paged:
        parts.append("paged")
    if spec.search_timestamp:
        parts.append("search_timestamp")
    if spec.asset_id_field:
        parts.append(f"asset id `{spec.asset_id_field}`")
    if spec.key_fields:
        keys = ", ".join(f"`{name}`" for name in spec.key_fields)
        source = ""
        if spec.source:
            source = f" ← {spec.source.api_id}"
            if spec.source.where:
                prefixes = "/".join(f"{prefix}…" for prefix in spec.source.where.prefixes)
                source += f" where `{spec.source.where.field}` {prefixes}"
        parts.append(f"keys {keys}{source}")
    if spec.range_fields:
        parts.append(f"range `{spec.range_fields[0]}`–`{spec.range_fields[1]}`")
    if spec.period_field:
        parts.append(f"period `{spec.period_field}`")
    if spec.sensitive:
        fields = ", ".join(f"`{name}` ({flag})" for name, flag in spec.sensitive.items())
        parts.append(f"sensitive {fields}")
    if spec.note:
        parts.append("reading")
    return "; ".join(parts)


def _table(specs: Sequence[ApiSpec]) -> list[str]:
    lines = [
        "| ID | Title | api_code | Method | Path | Scope | Cycle | Served by | Notes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for spec in specs:
        cells = [
            spec.id,
            spec.title,
            spec.api_code,
            spec.method,
            f"`{spec.path}`",
            f"`{spec.scope}`" if spec.scope else "",
            spec.cycle.value if spec.cycle else "",
            spec.served_by.value,
            _summary(spec),
        ]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return lines


def render(catalogue: Catalogue) -> str:
    """The whole Markdown document for `catalogue`."""
    specs = list(catalogue)
    lines = [HEADER.rstrip("\n"), "", "## Summary", "", "| Sector | APIs |", "|---|---|"]
    groups = [
        (SECTOR_TITLES[sector], [spec for spec in specs if spec.sector is sector and not spec.is_shared])
        for sector in Sector
    ]
    groups.append((SHARED_TITLE, [spec for spec in specs if spec.is_shared]))  # listed once, with their industries
    # Entries of other profiles (the 2025 nationwide standard's telecom APIs), served by a provider started with
    # `standard_profile` set to that profile instead of the financial information APIs.
    other_profiles = [spec for spec in catalogue.every_profile() if spec.id not in catalogue]
    for profile in dict.fromkeys(spec.profile for spec in other_profiles):
        members = [spec for spec in other_profiles if spec.profile == profile]
        groups.append(
            (f"{PROFILE_TITLES.get(str(profile.value), profile.value)} (`standard_profile={profile.value}`)", members)
        )
    groups = [(title, members) for title, members in groups if members]
    for title, members in groups:
        lines.append(f"| {title} | {len(members)} |")
    lines.append(f"| **Total** | {len(specs) + len(other_profiles)} |")
    for title, members in groups:
        lines += ["", f"## {title}", "", *_table(members)]
    lines += ["", "## Project readings", ""]
    noted = [spec for spec in (*specs, *other_profiles) if spec.note]
    if not noted:
        lines.append("None.")
    for spec in noted:
        lines.append(f"- **{spec.id}** ({spec.api_code}, `{spec.method} {spec.path}`): {_cell(spec.note)}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openmydata.standard.coverage", description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    action.add_argument("--write", action="store_true", help="regenerate the file")
    parser.add_argument("--path", type=Path, default=DOC_PATH, help=f"the document (default {DOC_PATH})")
    args = parser.parse_args(argv)

    expected = render(CATALOGUE)
    path: Path = args.path
    if args.write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(expected, encoding="utf-8")
        print(f"wrote {path}")
        return 0
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if current != expected:
        print(f"{path} is stale: run python -m openmydata.standard.coverage --write", file=sys.stderr)
        return 1
    print(f"{path} is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
