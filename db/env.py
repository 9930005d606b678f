"""Alembic environment: the URL comes from newsletter.db.alembic_config(), never from alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from newsletter.db import Base, include_object, make_engine
import newsletter.models  # noqa: F401 - defines every table on Base.metadata

config = context.config
target_metadata = Base.metadata
if not config.get_main_option("sqlalchemy.url"):
    from newsletter.config import load_settings

    config.set_main_option("sqlalchemy.url", load_settings().database_url.replace("%", "%%"))

def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_object=include_object,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
