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
    irp,
    p2p,
    prepaid,
    support,
    telecom,
    telecom_nationwide,
)
from openmydata.standard.catalogue import Catalogue
from openmydata.standard.profiles import Profile

SECTOR_MODULES = (bank, card, prepaid, telecom, insu, invest, efin, capital, ginsu, p2p, bond, irp)

CATALOGUE = Catalogue(
    [
        *auth.SPECS,
        *common.SPECS,
        *(spec for module in SECTOR_MODULES for spec in module.SPECS),
        *support.SPECS,
        *telecom_nationwide.SPECS,  # the nationwide profile's (CATALOGUE is the financial view)
    ]
)
NATIONWIDE_CATALOGUE = CATALOGUE.for_profile(Profile.NATIONWIDE)

__all__ = ["CATALOGUE", "NATIONWIDE_CATALOGUE", "SECTOR_MODULES"]
