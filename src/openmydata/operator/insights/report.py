"""The credit model's HTML report: ROC curves (all held-out people and the thin-file ones, with and without the
telecom features), a calibration plot and the features that carry the model, drawn as inline SVG on the server
(no chart code or assets shipped)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from openmydata.operator.insights.features import BY_NAME

_environment = Environment(
    loader=FileSystemLoader(Path(__file__).parent),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

SIZE = 320  # plot area, px
MARGIN = 44
COLOURS = ("#0b5cad", "#c2410c")


@dataclass(frozen=True)
class Curve:
    label: str
    points: list[tuple[float, float]]  # (x, y) in [0, 1]
    auc: float | None


def _path(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{MARGIN + x * SIZE:.1f},{MARGIN + (1 - y) * SIZE:.1f}" for x, y in points)


def plot(
    title: str, curves: Sequence[Curve], *, x_label: str, y_label: str, diagonal: bool = True, markers: bool = False
) -> dict[str, Any]:
    """What the template needs to draw one square 0–1 plot."""
    ticks = [i / 5 for i in range(6)]
    return {
        "title": title,
        "size": SIZE,
        "margin": MARGIN,
        "width": SIZE + 2 * MARGIN + 150,
        "height": SIZE + 2 * MARGIN,
        "x_label": x_label,
        "y_label": y_label,
        "diagonal": diagonal,
        "ticks": [(tick, MARGIN + tick * SIZE, MARGIN + (1 - tick) * SIZE) for tick in ticks],
        "series": [
            {
                "label": curve.label,
                "auc": curve.auc,
                "colour": COLOURS[number % len(COLOURS)],
                "path": _path(curve.points),
                "markers": [(MARGIN + x * SIZE, MARGIN + (1 - y) * SIZE) for x, y in curve.points] if markers else [],
            }
            for number, curve in enumerate(curves)
        ],
    }


def render_report(
    figures: Mapping[str, Any],
    curves: Mapping[str, Sequence[Curve]],
    calibration: Sequence[tuple[float, float]],
    importance: Sequence[tuple[str, float]],
    assumptions: Mapping[str, float],
) -> str:
    top = max((share for _, share in importance), default=1.0) or 1.0
    highest = max([1e-9, *(max(p, t) for p, t in calibration)])
    scale = min(1.0, round(highest * 1.25 + 0.005, 2))  # the calibration plot's axes end near the highest bin
    calibration_curve = Curve("금융+통신 모델 (model)", [(p / scale, t / scale) for p, t in calibration], None)
    return _environment.get_template("report.html").render(
        figures=figures,
        roc_all=plot(
            "ROC — 전체 (all held-out people)",
            curves["all"],
            x_label="거짓 양성률 (false positive rate)",
            y_label="참 양성률 (true positive rate)",
        ),
        roc_thin=plot(
            "ROC — 금융 이력 부족 (thin file)",
            curves["thin"],
            x_label="거짓 양성률 (false positive rate)",
            y_label="참 양성률 (true positive rate)",
        ),
        calibration=plot(
            f"보정 (calibration), 축 0–{scale:.2f}",
            [calibration_curve],
            x_label="예측 부도율 (predicted)",
            y_label="실제 부도율 (observed)",
            markers=True,
        ),
        calibration_scale=scale,
        calibration_bins=calibration,
        importance=[
            {
                "name": name,
                "ko": BY_NAME[name].label_ko,
                "en": BY_NAME[name].label_en,
                "group": BY_NAME[name].group,
                "share": share,
                "width": round(300 * share / top, 1),
            }
            for name, share in importance
        ],
        assumptions=assumptions,
    )
