"""The credit model: calibrated probabilities, per-person reasons, bands, and a model file that loads back the same
model and refuses anything else."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from openmydata.operator.insights.features import FEATURE_NAMES
from openmydata.operator.insights.model import BANDS, CreditModel, band_of


def _data(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random features where two telecom columns decide the outcome."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, len(FEATURE_NAMES)))
    unpaid = FEATURE_NAMES.index("tel_unpaid_months")
    late = FEATURE_NAMES.index("fin_card_late_bills")
    logit = -2.0 + 1.5 * x[:, unpaid] + 0.8 * x[:, late]
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


@pytest.fixture(scope="module")
def model() -> CreditModel:
    x, y = _data(4000, 1)
    xc, yc = _data(2000, 2)
    return CreditModel.train(x, y, xc, yc, FEATURE_NAMES, meta={"people": 6000})


def test_probabilities_rank_the_outcome_and_stay_between_0_and_1(model: CreditModel) -> None:
    x, y = _data(2000, 3)
    p = model.probability(x)
    assert ((p >= 0) & (p <= 1)).all()
    assert p[y == 1].mean() > 2 * p[y == 0].mean()
    # calibrated: the mean prediction is close to the observed rate
    assert abs(p.mean() - y.mean()) < 0.03


def test_reasons_are_the_features_that_moved_the_score(model: CreditModel) -> None:
    unpaid = FEATURE_NAMES.index("tel_unpaid_months")
    row = dict.fromkeys(FEATURE_NAMES, 0.0)
    row["tel_unpaid_months"] = 3.0
    risky = model.assess(row)
    assert risky.reasons[0].feature == "tel_unpaid_months"
    assert risky.reasons[0].raises_risk
    assert risky.reasons[0].label("en") == "months a bill went unpaid"
    row["tel_unpaid_months"] = -3.0
    safe = model.assess(row)
    assert safe.probability < risky.probability
    assert any(r.feature == "tel_unpaid_months" and not r.raises_risk for r in safe.reasons)
    assert (risky.band, risky.band_ko, risky.band_en) == band_of(risky.probability)
    assert model.importance()[FEATURE_NAMES[unpaid]] == max(model.importance().values())


def test_bands_cover_every_probability() -> None:
    assert [band_of(p)[0] for p in (0.0, 0.03, 0.07, 0.15, 0.5, 1.0)] == ["A", "B", "C", "D", "E", "E"]
    assert [limit for limit, *_ in BANDS] == sorted(limit for limit, *_ in BANDS)


def test_a_saved_model_loads_back_the_same(model: CreditModel, tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    model.save(path)
    loaded = CreditModel.load(path)
    x, _ = _data(200, 4)
    assert np.allclose(loaded.probability(x), model.probability(x))
    row = dict(zip(FEATURE_NAMES, x[0].tolist(), strict=True))
    assert loaded.assess(row) == model.assess(row)
    assert loaded.meta == {"people": 6000}


@pytest.mark.parametrize(
    "change",
    [
        lambda data: data.update(format="something-else/1"),
        lambda data: data.update(feature_names=[*data["feature_names"][:-1], "unknown_feature"]),
        lambda data: data.update(calibration={"x": [0.5], "y": [0.1]}),
    ],
)
def test_a_file_that_is_not_a_model_of_this_version_is_refused(model: CreditModel, tmp_path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = model.to_json()
    change(data)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError):
        CreditModel.load(path)
