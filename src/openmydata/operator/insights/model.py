"""The credit model: gradient-boosted trees (LightGBM) on `features.FEATURES`, calibrated with isotonic regression
(scikit-learn) on a separate slice of the data, and explained per person with LightGBM's own feature
contributions (`pred_contrib`, TreeSHAP: per feature, how much it moved this person's log-odds from the average).

A saved model is one JSON file: LightGBM's text dump, the isotonic curve's points, the feature names and what it
was trained on. Nothing is pickled, so loading a model file runs no code from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
from sklearn.isotonic import IsotonicRegression

from openmydata.operator.insights.features import BY_NAME

FORMAT = "openmydata-credit-model/1"

# LightGBM settings: small trees and many rows per leaf, because the synthetic population is small and the
# signal is a handful of payment-behaviour counts.
PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.9,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "verbose": -1,
    "num_threads": 2,
    "deterministic": True,
    "force_row_wise": True,
}
ROUNDS = 300

# Score bands on the calibrated probability of default within a year (the model's own scale; see docs).
BANDS: tuple[tuple[float, str, str, str], ...] = (
    (0.02, "A", "매우 낮음", "very low"),
    (0.05, "B", "낮음", "low"),
    (0.10, "C", "보통", "moderate"),
    (0.20, "D", "높음", "high"),
    (1.01, "E", "매우 높음", "very high"),
)


@dataclass(frozen=True)
class Reason:
    feature: str
    value: float
    contribution: float  # log-odds; positive raises the risk

    @property
    def raises_risk(self) -> bool:
        return self.contribution > 0

    def label(self, lang: str = "ko") -> str:
        feature = BY_NAME[self.feature]
        return feature.label_en if lang == "en" else feature.label_ko


@dataclass(frozen=True)
class Assessment:
    probability: float
    band: str
    band_ko: str
    band_en: str
    reasons: list[Reason] = field(default_factory=list)


def band_of(probability: float) -> tuple[str, str, str]:
    for limit, band, ko, en in BANDS:
        if probability < limit:
            return band, ko, en
    return BANDS[-1][1:]


@dataclass
class CreditModel:
    feature_names: tuple[str, ...]
    booster: lightgbm.Booster
    calibration: IsotonicRegression
    meta: dict[str, Any]

    @classmethod
    def train(
        cls,
        x_train: np.ndarray,
        y_train: np.ndarray,
        x_calibrate: np.ndarray,
        y_calibrate: np.ndarray,
        feature_names: Sequence[str],
        *,
        seed: int = 42,
        meta: Mapping[str, Any] | None = None,
    ) -> CreditModel:
        params = {**PARAMS, "seed": seed}
        data = lightgbm.Dataset(x_train, label=y_train, feature_name=list(feature_names), free_raw_data=True)
        booster = lightgbm.train(params, data, num_boost_round=ROUNDS)
        calibration = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        calibration.fit(booster.predict(x_calibrate), y_calibrate)
        return cls(tuple(feature_names), booster, calibration, dict(meta or {}))

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Uncalibrated probabilities (the trees' output)."""
        return np.asarray(self.booster.predict(x), dtype=float)

    def probability(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of default within a year."""
        return np.asarray(self.calibration.predict(self.raw(x)), dtype=float)

    def matrix(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        return np.array([[row[name] for name in self.feature_names] for row in rows], dtype=float)

    def assess(self, row: Mapping[str, float], *, top: int = 4) -> Assessment:
        """One person: calibrated probability, band, and the features that moved the score most (both ways)."""
        x = self.matrix([row])
        probability = float(self.probability(x)[0])
        contributions = np.asarray(self.booster.predict(x, pred_contrib=True), dtype=float)[0][:-1]  # last: bias
        order = np.argsort(-np.abs(contributions))
        reasons = [
            Reason(self.feature_names[i], float(x[0][i]), float(contributions[i]))
            for i in order[:top]
            if abs(contributions[i]) > 1e-6
        ]
        band, ko, en = band_of(probability)
        return Assessment(probability, band, ko, en, reasons)

    def importance(self) -> dict[str, float]:
        gains = self.booster.feature_importance(importance_type="gain")
        total = float(sum(gains)) or 1.0
        return {name: float(gain) / total for name, gain in zip(self.feature_names, gains, strict=True)}

    # persistence -------------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "feature_names": list(self.feature_names),
            "booster": self.booster.model_to_string(),
            "calibration": {
                "x": [float(v) for v in self.calibration.X_thresholds_],
                "y": [float(v) for v in self.calibration.y_thresholds_],
            },
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CreditModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a credit model file ({data.get('format')!r})")
        names = tuple(str(name) for name in data["feature_names"])
        unknown = [name for name in names if name not in BY_NAME]
        if unknown:
            raise ValueError(f"the model uses features this version does not compute: {unknown}")
        booster = lightgbm.Booster(model_str=str(data["booster"]))
        points = data["calibration"]
        calibration = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        xs, ys = np.asarray(points["x"], dtype=float), np.asarray(points["y"], dtype=float)
        if len(xs) < 2 or len(xs) != len(ys):
            raise ValueError("the model file's calibration curve is incomplete")
        calibration.fit(xs, ys)  # refitting a monotone curve on its own points reproduces it
        return cls(names, booster, calibration, dict(data.get("meta", {})))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(json.dumps(self.to_json(), ensure_ascii=False), encoding="utf-8")
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> CreditModel:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
