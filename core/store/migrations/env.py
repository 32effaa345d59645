"""Alembic environment: runs on the engine lmsbridge hands over, never on alembic.ini."""

from alembic import context

from lmsbridge.core.store.schema import metadata

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=engine.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
