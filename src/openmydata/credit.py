"""`openmydata insights train` / `evaluate`: the credit model of the operator's credit view, trained on the sandbox.

This is a composition module (like `cli`, `demo` and `benchmarks`): it takes synthetic people and their bank,
card and telecom records from `sandbox`, turns each person's records into the operator's credit features
(`operator.insights.features`, the same code the credit view runs on collected data), labels each person with
the sandbox's outcome (`sandbox.outcomes`: default within a year), and trains two models with the same settings:
one on every feature and one on the financial features alone. Both are measured on the same held-out people, all
of them and the thin-file ones (the sandbox's `thin_file`: few or no loans and cards), which is the comparison
the credit view exists for.

People are split by index (index mod 5: 0–2 train, 3 calibration, 4 held out), so a population of N people
always holds out the same ones. The held-out rows are saved with the models (`holdout.npz`, plain arrays) so that
`evaluate` measures without generating the population again.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

from openmydata.operator.insights.features import FEATURE_NAMES, features, names
from openmydata.operator.insights.model import CreditModel
from openmydata.operator.insights.report import Curve, render_report
from openmydata.sandbox.institutions import SectorName, generate_customers, is_customer
from openmydata.sandbox.outcomes import DEFAULT_BASE, DEFAULT_INCOME_SLOPE, DEFAULT_RISK_SLOPE, defaults_within_a_year
from openmydata.sandbox.population import make_person

Progress = Callable[[str, int, int], None]

# The institutions whose data the model sees: one bank, one card company, one telecom operator (org_codes only
# seed the sandbox's draws; they are the demo's core institutions' codes' shape, not real ones).
INSTITUTIONS: tuple[tuple[SectorName, str], ...] = (
    ("bank", "A1TRAIN001"),
    ("card", "D1TRAIN002"),
    ("telecom", "T1TRAIN003"),
)
DEFAULT_AS_OF = date(2026, 6, 30)
MODEL_FILE = "credit-model.json"
FINANCIAL_MODEL_FILE = "credit-model-financial.json"
HOLDOUT_FILE = "holdout.npz"
EVALUATION_FILE = "evaluation.json"
REPORT_FILE = "report.html"
CHUNK = 250


@dataclass
class Dataset:
    x: np.ndarray  # people × FEATURE_NAMES
    y: np.ndarray  # 1 = defaults within a year
    thin: np.ndarray  # bool: the sandbox's thin-file flag
    index: np.ndarray  # the person's index in the population

    def take(self, mask: np.ndarray) -> Dataset:
        return Dataset(self.x[mask], self.y[mask], self.thin[mask], self.index[mask])


def _rows(job: tuple[int, int, int, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    start, stop, seed, as_of_text = job
    as_of = date.fromisoformat(as_of_text)
    rows, labels, thin, index = [], [], [], []
    for position in range(start, stop):
        person = make_person(position, seed, as_of)
        records: list[tuple[str, dict[str, Any]]] = []
        for sector, org_code in INSTITUTIONS:
            if not is_customer(person, sector, org_code, seed):
                continue
            for customer in generate_customers([person], sector=sector, org_code=org_code, seed=seed, as_of=as_of):
                records.extend((record.api_id, record.payload) for record in customer.records)
        row = features(records)
        rows.append([row[name] for name in FEATURE_NAMES])
        labels.append(1 if defaults_within_a_year(person, seed) else 0)
        thin.append(person.thin_file)
        index.append(position)
    return (
        np.array(rows, dtype=float).reshape(-1, len(FEATURE_NAMES)),
        np.array(labels, dtype=np.int8),
        np.array(thin, dtype=bool),
        np.array(index, dtype=np.int64),
    )


def _jobs(people: int, seed: int, as_of: date) -> Iterator[tuple[int, int, int, str]]:
    for start in range(0, people, CHUNK):
        yield start, min(people, start + CHUNK), seed, as_of.isoformat()


def build_dataset(
    people: int,
    *,
    seed: int = 42,
    as_of: date = DEFAULT_AS_OF,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Dataset:
    """Features and outcomes of the first `people` of the sandbox population (one process per core)."""
    report = progress or (lambda _d, _c, _t: None)
    jobs = list(_jobs(people, seed, as_of))
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    done = 0
    count = workers if workers is not None else min(len(jobs), os.cpu_count() or 1)
    report("people", 0, people)
    if count <= 1:
        results: Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = map(_rows, jobs)
        for part in results:
            parts.append(part)
            done += len(part[1])
            report("people", done, people)
    else:
        with ProcessPoolExecutor(max_workers=count) as pool:
            for part in pool.map(_rows, jobs):
                parts.append(part)
                done += len(part[1])
                report("people", done, people)
    return Dataset(
        np.concatenate([part[0] for part in parts]),
        np.concatenate([part[1] for part in parts]),
        np.concatenate([part[2] for part in parts]),
        np.concatenate([part[3] for part in parts]),
    )


def split(data: Dataset) -> tuple[Dataset, Dataset, Dataset]:
    """(train, calibration, held out) by person index."""
    fold = data.index % 5
    return data.take(fold <= 2), data.take(fold == 3), data.take(fold == 4)


def _columns(group_names: tuple[str, ...]) -> list[int]:
    return [FEATURE_NAMES.index(name) for name in group_names]


def train(
    directory: Path, *, people: int, seed: int = 42, as_of: date = DEFAULT_AS_OF, progress: Progress | None = None
) -> dict[str, Any]:
    """Build the dataset, train both models, save them and the held-out rows, evaluate and write the report."""
    data = build_dataset(people, seed=seed, as_of=as_of, progress=progress)
    training, calibration, holdout = split(data)
    if min(int(training.y.sum()), int(calibration.y.sum()), int(holdout.y.sum())) < 5:
        raise ValueError(f"{people} people give too few defaults to train and measure on; use more people")
    meta = {
        "people": people,
        "seed": seed,
        "as_of": as_of.isoformat(),
        "trained_on": len(training.y),
        "calibrated_on": len(calibration.y),
        "held_out": len(holdout.y),
        "default_rate": round(float(data.y.mean()), 4),
        "institutions": [sector for sector, _ in INSTITUTIONS],
    }
    directory.mkdir(parents=True, exist_ok=True)
    for file, group in ((MODEL_FILE, FEATURE_NAMES), (FINANCIAL_MODEL_FILE, names(["financial"]))):
        columns = _columns(group)
        model = CreditModel.train(
            training.x[:, columns],
            training.y,
            calibration.x[:, columns],
            calibration.y,
            group,
            seed=seed,
            meta={**meta, "features": "all" if group == FEATURE_NAMES else "financial"},
        )
        model.save(directory / file)
    np.savez_compressed(directory / HOLDOUT_FILE, x=holdout.x, y=holdout.y, thin=holdout.thin, index=holdout.index)
    return evaluate(directory)


def _auc(y: np.ndarray, score: np.ndarray) -> float | None:
    if len(set(y.tolist())) < 2:
        return None
    return round(float(roc_auc_score(y, score)), 4)


def _curve(label: str, y: np.ndarray, score: np.ndarray) -> Curve:
    fpr, tpr, _ = roc_curve(y, score)
    # thin the curve for the SVG: at most ~200 points, always keeping the ends
    step = max(1, math.ceil(len(fpr) / 200))
    points = [(float(f), float(t)) for f, t in zip(fpr[::step], tpr[::step], strict=True)]
    points.append((float(fpr[-1]), float(tpr[-1])))
    return Curve(label, points, _auc(y, score))


def evaluate(directory: Path) -> dict[str, Any]:
    """The figures on the held-out people (and the report beside the models)."""
    full = CreditModel.load(directory / MODEL_FILE)
    financial = CreditModel.load(directory / FINANCIAL_MODEL_FILE)
    with np.load(directory / HOLDOUT_FILE, allow_pickle=False) as saved:
        holdout = Dataset(saved["x"], saved["y"], saved["thin"], saved["index"])
    if list(full.feature_names) != list(FEATURE_NAMES):
        raise ValueError("the model was trained on other features than this version computes: train it again")
    p_all = full.probability(holdout.x)
    p_fin = financial.probability(holdout.x[:, _columns(financial.feature_names)])
    raw_all, raw_fin = full.raw(holdout.x), financial.raw(holdout.x[:, _columns(financial.feature_names)])
    thin = holdout.thin
    y = holdout.y
    bins = 10
    true_p, predicted_p = calibration_curve(y, p_all, n_bins=bins, strategy="quantile")
    figures: dict[str, Any] = {
        "auc_all": _auc(y, raw_all),
        "auc_all_without_telecom": _auc(y, raw_fin),
        "auc_thin_file": _auc(y[thin], raw_all[thin]),
        "auc_thin_file_without_telecom": _auc(y[thin], raw_fin[thin]),
        "people": int(full.meta.get("people", 0)),
        "held_out": len(y),
        "held_out_thin_file": int(thin.sum()),
        "default_rate_held_out": round(float(y.mean()), 4),
        "default_rate_thin_file": round(float(y[thin].mean()), 4) if thin.any() else None,
        "brier_all": round(float(brier_score_loss(y, p_all)), 5),
        "brier_all_without_telecom": round(float(brier_score_loss(y, p_fin)), 5),
        "seed": full.meta.get("seed"),
        "as_of": full.meta.get("as_of"),
    }
    if figures["auc_thin_file"] is not None and figures["auc_thin_file_without_telecom"] is not None:
        figures["thin_file_gain"] = round(figures["auc_thin_file"] - figures["auc_thin_file_without_telecom"], 4)
    curves = {
        "all": [_curve("금융+통신 (financial + telecom)", y, raw_all), _curve("금융만 (financial only)", y, raw_fin)],
        "thin": [
            _curve("금융+통신 (financial + telecom)", y[thin], raw_all[thin]),
            _curve("금융만 (financial only)", y[thin], raw_fin[thin]),
        ],
    }
    calibration = [(float(p), float(t)) for p, t in zip(predicted_p, true_p, strict=True)]
    importance = sorted(full.importance().items(), key=lambda item: -item[1])
    assumptions = {
        "base": DEFAULT_BASE,
        "risk_slope": DEFAULT_RISK_SLOPE,
        "income_slope": DEFAULT_INCOME_SLOPE,
    }
    html = render_report(figures, curves, calibration, importance, assumptions)
    (directory / REPORT_FILE).write_text(html, encoding="utf-8")
    (directory / EVALUATION_FILE).write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    return figures
