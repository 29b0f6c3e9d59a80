"""The attack registry: at least 40 distinct attacks, each carried out by exactly one test of the suite."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from tests.security.attacks import ATTACKS, IMPLEMENTED

MINIMUM_ATTACKS = 40


def _load_suite() -> None:
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module.name.startswith("test_"):
            importlib.import_module(f"tests.security.{module.name}")


def test_every_registered_attack_has_its_test() -> None:
    _load_suite()
    assert sorted(set(ATTACKS) - set(IMPLEMENTED)) == [], "registered attacks without a test"
    assert sorted(set(IMPLEMENTED) - set(ATTACKS)) == [], "attack tests missing from ATTACKS"
    assert len(ATTACKS) >= MINIMUM_ATTACKS
    print(f"\n{len(ATTACKS)} distinct attacks")
