"""A conformance checker for providers (기능적합성): every catalogued information API of a provider's sectors,
called over the wire only and judged against the standard (imports only `kit` and `standard`).

`run_conformance` makes the calls and returns a `ConformanceReport`; `report` writes it as JSON and HTML.
"""

from openmydata.conformance.checks import DESCRIPTIONS, NEGATIVE_CASES
from openmydata.conformance.report import render_html, write_html, write_json, write_report
from openmydata.conformance.results import ApiResult, Check, ConformanceReport
from openmydata.conformance.runner import run_conformance

__all__ = [
    "DESCRIPTIONS",
    "NEGATIVE_CASES",
    "ApiResult",
    "Check",
    "ConformanceReport",
    "render_html",
    "run_conformance",
    "write_html",
    "write_json",
    "write_report",
]
