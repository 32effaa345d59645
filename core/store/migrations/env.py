"""Alembic environment: runs on the engine lmsbridge hands over, never on alembic.ini.

On SQLite, batch migrations copy a table, drop it and rename the copy. With foreign keys
enforced, dropping a table that others reference with ON DELETE CASCADE (tenants) would
delete their rows, so enforcement is off while migrating; the result is checked with
``PRAGMA foreign_key_check`` before it commits.
"""

from alembic import context
from sqlalchemy import text

from lmsbridge.core.store.schema import metadata

engine = context.config.attributes["engine"]
sqlite = engine.dialect.name == "sqlite"

with engine.connect() as connection:
    if sqlite:  # only outside a transaction does this pragma take effect
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        with connection.begin():
            context.configure(connection=connection, target_metadata=metadata,
                              render_as_batch=sqlite)
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.execute(text("PRAGMA foreign_key_check")).all()
                if broken:
                    raise RuntimeError(f"migration left rows with dangling foreign keys: "
                                       f"{broken[:5]}")
    finally:
        if sqlite:
            connection.rollback()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
