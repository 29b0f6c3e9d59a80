"""The credit view: the operator's credit model applied to what a person has moved to the operator.

The model file is the one `openmydata insights train` writes (`OperatorSettings.credit_model_path`); it is read
when first needed and again whenever the file changes, so a newly trained model takes effect without a restart.
Without a model file the view says so instead of showing a score.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openmydata.operator.insights.features import FEATURE_NAMES, features

if TYPE_CHECKING:  # LightGBM, NumPy and scikit-learn load with the first model, not with the operator
    from openmydata.operator.insights.model import Assessment, CreditModel


@dataclass(frozen=True)
class CreditOutcome:
    assessment: Assessment | None
    row: dict[str, float]
    has_telecom: bool
    has_credit_history: bool
    problem: str | None = None


class CreditView:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._model: CreditModel | None = None
        self._stamp: tuple[int, int] | None = None

    def model(self) -> CreditModel | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._model is None or stamp != self._stamp:
                from openmydata.operator.insights.model import CreditModel

                model = CreditModel.load(self.path)
                if list(model.feature_names) != list(FEATURE_NAMES):
                    raise ValueError("the credit model uses other features than this version: train it again")
                self._model, self._stamp = model, stamp
            return self._model

    def assess(self, records: Iterable[tuple[str, Mapping[str, Any]]]) -> CreditOutcome:
        row = features(records)
        has_telecom = row["tel_has_telecom"] > 0
        has_credit_history = row["fin_loan_count"] > 0 or row["fin_card_bills"] > 0
        try:
            model = self.model()
        except (ValueError, KeyError) as exc:
            return CreditOutcome(None, row, has_telecom, has_credit_history, problem=str(exc))
        if model is None:
            return CreditOutcome(None, row, has_telecom, has_credit_history, problem="no model")
        return CreditOutcome(model.assess(row), row, has_telecom, has_credit_history)
