"""Alembic environment of the portal (run through openmydata.kit.db.upgrade)."""

from alembic import context

from openmydata.kit.db import run_alembic_env
from openmydata.portal.models import Base

run_alembic_env(context, Base.metadata)
