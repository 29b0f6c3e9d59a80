"""Alembic environment of the provider (run through openmydata.kit.db.upgrade)."""

from alembic import context

from openmydata.kit.db import run_alembic_env
from openmydata.provider.models import Base

run_alembic_env(context, Base.metadata)
