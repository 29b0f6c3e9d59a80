"""Bar charts as data for the pages' inline SVG (`templates/_charts.html`): drawn on the server, no chart code
sent to the browser. Every chart has a title, labelled axes or bars, and the same figures as a table for screen
readers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0


def _nice_ceiling(value: float) -> float:
    """A round upper bound for an axis: 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1.0
    power = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def columns(
    title: str,
    items: Sequence[tuple[str, float]],
    fmt: Callable[[float], str],
    *,
    width: int = 640,
    height: int = 240,
    axis_fmt: Callable[[float], str] | None = None,
) -> dict[str, Any]:
    """Vertical bars (e.g. spending per month)."""
    left, bottom, top = 64, 28, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    ceiling = _nice_ceiling(max((value for _, value in items), default=0.0))
    slot = plot_w / max(1, len(items))
    bars = []
    for index, (label, value) in enumerate(items):
        bar_h = plot_h * max(0.0, value) / ceiling
        bars.append(
            Bar(label, value, fmt(value), left + index * slot + slot * 0.15, top + plot_h - bar_h, slot * 0.7, bar_h)
        )
    ticks = [(top + plot_h - plot_h * i / 4, (axis_fmt or fmt)(ceiling * i / 4)) for i in range(5)]
    return {
        "title": title,
        "width": width,
        "height": height,
        "left": left,
        "top": top,
        "plot_w": plot_w,
        "plot_h": plot_h,
        "bars": bars,
        "ticks": ticks,
        "baseline": top + plot_h,
    }


def rows(
    title: str, items: Sequence[tuple[str, float]], fmt: Callable[[float], str], *, width: int = 640
) -> dict[str, Any]:
    """Horizontal bars (e.g. spending per category), largest first as given."""
    label_w, value_w, row_h = 110, 110, 26
    plot_w = width - label_w - value_w
    top = max((value for _, value in items), default=0.0) or 1.0
    bars = [
        Bar(label, value, fmt(value), label_w, index * row_h + 4, plot_w * max(0.0, value) / top, row_h - 8)
        for index, (label, value) in enumerate(items)
    ]
    return {"title": title, "width": width, "height": len(items) * row_h + 8, "bars": bars, "label_w": label_w}
