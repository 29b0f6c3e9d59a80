"""The report files: JSON (`ConformanceReport.to_json`) and one self-contained HTML page (inline CSS, no
scripts, no external assets)."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from openmydata.conformance.checks import DESCRIPTIONS
from openmydata.conformance.results import ConformanceReport

TEMPLATE = "report.html"

_environment = Environment(
    loader=FileSystemLoader(Path(__file__).parent),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render_html(report: ConformanceReport) -> str:
    return _environment.get_template(TEMPLATE).render(
        report=report,
        totals=report.totals(),
        failures=report.failures(),
        descriptions=sorted(DESCRIPTIONS.items()),
    )


def write_html(report: ConformanceReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path


def write_json(report: ConformanceReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def write_report(report: ConformanceReport, directory: Path, stem: str = "conformance") -> tuple[Path, Path]:
    """`<stem>.json` and `<stem>.html` in `directory`; returns both paths."""
    return write_json(report, directory / f"{stem}.json"), write_html(report, directory / f"{stem}.html")
