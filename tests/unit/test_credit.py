"""`openmydata insights train` / `evaluate` on the sandbox: a deterministic dataset, both models, the held-out
figures, the report, and the thin-file comparison the credit view exists for."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from openmydata.cli import app
from openmydata.credit import (
    EVALUATION_FILE,
    FINANCIAL_MODEL_FILE,
    MODEL_FILE,
    REPORT_FILE,
    build_dataset,
    split,
    train,
)
from openmydata.operator.insights.features import FEATURE_NAMES

PEOPLE = 6000  # enough thin-file held-out people (~170) and defaults to measure on; about a minute on 2 cores


def test_the_dataset_is_deterministic_and_split_by_person() -> None:
    first = build_dataset(60, seed=7, workers=1)
    again = build_dataset(60, seed=7, workers=1)
    assert first.x.shape == (60, len(FEATURE_NAMES))
    assert np.array_equal(first.x, again.x)
    assert np.array_equal(first.y, again.y)
    assert first.index.tolist() == list(range(60))
    assert first.thin.any()
    assert not first.thin.all()
    # nearly everyone has telecom data; thin-file people have less credit history than the others
    telecom = FEATURE_NAMES.index("tel_has_telecom")
    assert first.x[:, telecom].mean() > 0.8
    training, calibration, holdout = split(first)
    assert len(training.y) + len(calibration.y) + len(holdout.y) == 60
    assert set(holdout.index.tolist()) == {i for i in range(60) if i % 5 == 4}


def test_too_few_people_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="too few defaults"):
        train(tmp_path, people=40, seed=1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, float]]:
    folder = tmp_path_factory.mktemp("insights")
    figures = train(folder, people=PEOPLE, seed=42)
    return folder, figures


def test_telecom_data_lifts_the_thin_file_auc(trained: tuple[Path, dict[str, float]]) -> None:
    _, figures = trained
    assert figures["people"] == PEOPLE
    assert figures["held_out"] == PEOPLE // 5
    assert figures["auc_all"] > 0.7
    assert figures["auc_thin_file"] > figures["auc_thin_file_without_telecom"]
    assert figures["auc_all"] >= figures["auc_all_without_telecom"]


def test_evaluate_prints_json_last_and_writes_the_report(trained: tuple[Path, dict[str, float]]) -> None:
    folder, figures = trained
    for name in (MODEL_FILE, FINANCIAL_MODEL_FILE, EVALUATION_FILE, REPORT_FILE):
        assert (folder / name).exists(), name
    result = CliRunner().invoke(app, ["insights", "evaluate", "--json", "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output.strip().splitlines()[-1])
    for key in ("auc_all", "auc_all_without_telecom", "auc_thin_file", "auc_thin_file_without_telecom", "people"):
        assert printed[key] == figures[key]
    report = (folder / REPORT_FILE).read_text(encoding="utf-8")
    assert report.count("<svg") == 4  # two ROC plots, calibration, feature importance
    assert "합성 데이터입니다" in report
    assert "thin file" in report
    assert str(figures["auc_thin_file"]) in report


def test_evaluate_without_a_model_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["insights", "evaluate", "--json", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "insights train" in result.output
