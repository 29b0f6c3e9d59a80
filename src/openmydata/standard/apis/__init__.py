"""The catalogue's entries, one module per group of APIs."""

from __future__ import annotations

from openmydata.standard.apis import auth, bank, card, common, support, telecom
from openmydata.standard.catalogue import Catalogue

CATALOGUE = Catalogue([*auth.SPECS, *common.SPECS, *bank.SPECS, *card.SPECS, *telecom.SPECS, *support.SPECS])

__all__ = ["CATALOGUE"]
