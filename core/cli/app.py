"""What every command shares: settings, the store and the plugin registry, opened lazily."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import attrs
import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from lmsbridge.core.config import Settings
from lmsbridge.core.errors import ConfigError
from lmsbridge.core.plugins import Registry
from lmsbridge.core.store import Store
from lmsbridge.core.store.database import head_revision


class App:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.console = Console()
        if not self.console.is_terminal:  # piped: don't squeeze tables into 80 columns
            self.console = Console(width=200)
        self.err = Console(stderr=True)

    @cached_property
    def raw_store(self) -> Store:
        """The store without the schema check: for `db upgrade`."""
        return Store.open(self.settings.database_url, self.settings.secret_key_file)

    @cached_property
    def store(self) -> Store:
        url = make_url(self.settings.database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
                and not Path(url.database).exists():
            # Connecting would leave an empty file behind; say what to do instead.
            raise ConfigError(f"no database at {url.database}: run `lmsbridge db upgrade` "
                              "to create it (or pass --db URL)")
        store = self.raw_store
        current, head = store.revision(), head_revision()
        if current != head:
            state = "has no lmsbridge schema" if current is None else f"is at revision {current}"
            raise ConfigError(f"database {self.safe_url} {state}, this lmsbridge needs {head}: "
                              "run `lmsbridge db upgrade`")
        if "registry" in self.__dict__:  # hook calls go to the audit trail
            self.__dict__["registry"].audit.attach(store.record_audit)
        return store

    @cached_property
    def registry(self) -> Registry:
        registry = Registry.load()
        for problem in registry.problems:
            self.err.print(f"[yellow]warning:[/] {problem}", highlight=False, soft_wrap=True)
        if "store" in self.__dict__:  # hook calls go to the audit trail
            registry.audit.attach(self.__dict__["store"].record_audit)
        return registry

    @property
    def safe_url(self) -> str:
        return make_url(self.settings.database_url).render_as_string(hide_password=True)


pass_app = click.make_pass_decorator(App)


def to_jsonable(obj: Any) -> Any:
    if attrs.has(type(obj)):
        return {k: to_jsonable(v) for k, v in attrs.asdict(obj, recurse=False).items()}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if isinstance(obj, str | int | float | bool) or obj is None:
        return obj
    return str(obj)


def emit_json(data: Any) -> None:
    json.dump(to_jsonable(data), sys.stdout, indent=2)
    sys.stdout.write("\n")


def table(app: App, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    t = Table(title=title, title_justify="left")
    for column in columns:
        t.add_column(column)
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    app.console.print(t)
