"""The catalogue's entries, one module per group of APIs."""

from __future__ import annotations

from openmydata.standard.apis import (
    auth,
    bank,
    bond,
    capital,
    card,
    common,
    efin,
    ginsu,
    insu,
    invest,
    p2p,
    support,
    telecom,
)
from openmydata.standard.catalogue import Catalogue

SECTOR_MODULES = (bank, card, telecom, insu, invest, efin, capital, ginsu, p2p, bond)

CATALOGUE = Catalogue(
    [*auth.SPECS, *common.SPECS, *(spec for module in SECTOR_MODULES for spec in module.SPECS), *support.SPECS]
)

__all__ = ["CATALOGUE", "SECTOR_MODULES"]
