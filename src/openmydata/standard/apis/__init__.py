"""The catalogue's entries, one module per group of APIs.

`SECTOR_MODULES` lists the information-API modules beyond bank, card and telecom; each is a module of this package
exposing `SPECS`. A sector whose module is not written yet is simply absent from the catalogue (and reported so in
docs/standard-coverage.md).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from openmydata.standard.apis import auth, bank, card, common, support, telecom
from openmydata.standard.catalogue import ApiSpec, Catalogue

SECTOR_MODULES = ("insu", "invest", "irp", "efin", "capital", "ginsu", "p2p", "bond")


def _optional(name: str) -> ModuleType | None:
    qualified = f"{__name__}.{name}"
    try:
        return importlib.import_module(qualified)
    except ModuleNotFoundError as exc:
        if exc.name == qualified:
            return None
        raise


def _sector_specs() -> list[ApiSpec]:
    specs: list[ApiSpec] = []
    for name in SECTOR_MODULES:
        module = _optional(name)
        if module is not None:
            specs.extend(module.SPECS)
    return specs


CATALOGUE = Catalogue(
    [*auth.SPECS, *common.SPECS, *bank.SPECS, *card.SPECS, *telecom.SPECS, *_sector_specs(), *support.SPECS]
)

__all__ = ["CATALOGUE", "SECTOR_MODULES"]
