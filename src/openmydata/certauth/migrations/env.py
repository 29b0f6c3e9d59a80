"""Alembic environment of the certification authority (run through openmydata.kit.db.upgrade)."""

from alembic import context

from openmydata.certauth.models import Base
from openmydata.kit.db import run_alembic_env

run_alembic_env(context, Base.metadata)
