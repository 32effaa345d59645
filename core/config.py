"""Settings: defaults, then ``lmsbridge.toml``, then ``LMSBRIDGE_*`` env vars, then CLI flags."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import attrs
from attrs import field, frozen

from lmsbridge.core.errors import ConfigError
from lmsbridge.core.store.database import DEFAULT_URL

CONFIG_FILE = "lmsbridge.toml"
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@frozen
class Settings:
    database_url: str = DEFAULT_URL
    log_format: str = "text"
    log_level: str = "WARNING"
    secret_key_file: Path = field(default=Path("lmsbridge.key"), converter=Path)

    def __attrs_post_init__(self) -> None:
        if self.log_format not in LOG_FORMATS:
            raise ConfigError(f"log_format must be one of {', '.join(LOG_FORMATS)} "
                              f"(got {self.log_format!r})")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"log_level must be one of {', '.join(LOG_LEVELS)} "
                              f"(got {self.log_level!r})")


KEYS = tuple(f.name for f in attrs.fields(Settings))


def load(path: Path | None = None, environ: dict[str, str] | None = None,
         **overrides: object) -> Settings:
    """Merge every source; ``path`` None means ``$LMSBRIDGE_CONFIG`` or ./lmsbridge.toml if any."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}

    explicit = path or (Path(env["LMSBRIDGE_CONFIG"]) if env.get("LMSBRIDGE_CONFIG") else None)
    file = explicit or Path(CONFIG_FILE)
    if explicit and not file.is_file():
        raise ConfigError(f"config file {str(file)!r} does not exist")
    if file.is_file():
        values.update(_read(file))

    for key in KEYS:
        if env.get(f"LMSBRIDGE_{key.upper()}"):
            values[key] = env[f"LMSBRIDGE_{key.upper()}"]
    values.update({k: v for k, v in overrides.items() if v is not None})
    if isinstance(values.get("log_level"), str):
        values["log_level"] = values["log_level"].upper()
    return Settings(**values)


def _read(file: Path) -> dict[str, object]:
    try:
        data = tomllib.loads(file.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(f"{file}: unknown setting(s) {', '.join(unknown)} "
                          f"(known: {', '.join(KEYS)})")
    return data
