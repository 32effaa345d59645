"""The ``lmsbridge`` command. User mistakes print one line and exit non-zero; never a
traceback."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click
from sqlalchemy.exc import OperationalError

from lmsbridge.core import __version__, config, logs
from lmsbridge.core.cli.app import App
from lmsbridge.core.cli.audit import instrument
from lmsbridge.core.errors import LmsbridgeError


class LazyGroup(click.Group):
    """Imports a subcommand's module only when that command runs (or ``--help`` lists it):
    the nightly ``sync`` must not pay for importing the web tool, the mocks and the demo.
    Adapters' commands (hook ``lmsbridge_register_commands``) are loaded, with the plugin
    registry, only for a name core does not have and for the command list.
    State-changing commands get their audit row here (:mod:`.audit`)."""

    _from_adapters: dict[str, click.Command] | None = None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_lazy(), *self._adapter_commands()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in _lazy():
            module, attr = _lazy()[name].split(":")
            command = getattr(importlib.import_module(module), attr)
            self.add_command(instrument(command, name), name)
        elif name not in self.commands and name in self._adapter_commands():
            self.add_command(self._adapter_commands()[name], name)
        return super().get_command(ctx, name)

    def _adapter_commands(self) -> dict[str, click.Command]:
        if self._from_adapters is None:
            from lmsbridge.core.plugins import Registry

            collector = click.Group()
            Registry.load().register_commands(collector)
            core = {*self.commands, *_lazy()}  # an adapter never replaces a core command
            self._from_adapters = {name: instrument(command, name)
                                   for name, command in collector.commands.items()
                                   if name not in core}
        return self._from_adapters


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lmsbridge")
@click.option("--db", "database_url", metavar="URL",
              help="SQLAlchemy URL (env LMSBRIDGE_DATABASE_URL; default sqlite:///lmsbridge.db).")
@click.option("--config", "config_path", type=click.Path(path_type=Path), metavar="FILE",
              help="Config file (default ./lmsbridge.toml when present).")
@click.option("--log-format", type=click.Choice(config.LOG_FORMATS), help="text or json.")
@click.option("--log-level", type=click.Choice(config.LOG_LEVELS, case_sensitive=False))
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, config_path: Path | None,
        log_format: str | None, log_level: str | None) -> None:
    """lmsbridge: sync a course provider with LMSs and Oracle Learning."""
    settings = config.load(config_path, database_url=database_url, log_format=log_format,
                           log_level=log_level)
    logs.setup(settings.log_format, settings.log_level)
    ctx.obj = App(settings)


# "module:command" for every subcommand; one line each, grouped by the work that owns it.
COMMANDS = [
    "lmsbridge.core.cli.db:db",
    "lmsbridge.core.cli.adapters:adapters",
    "lmsbridge.core.cli.tenant:tenant",
    "lmsbridge.core.cli.platform:platform",
    "lmsbridge.core.cli.program:program",
    "lmsbridge.core.cli.cartridge:cartridge",
    "lmsbridge.core.cli.mock:mock",
    # --- LTI tool ---
    "lmsbridge.core.cli.serve:serve",
    "lmsbridge.core.cli.keys:keys",
    "lmsbridge.core.cli.license:license",
    # --- sync engine ---
    "lmsbridge.core.cli.sync:sync",
    "lmsbridge.core.cli.catalog:catalog",
    "lmsbridge.core.cli.provider:provider",
    "lmsbridge.core.cli.demo:demo",
    # --- conformance ---
    "lmsbridge.core.cli.conformance:conformance",
    # --- audit trail ---
    "lmsbridge.core.cli.audit:audit",
]


def _lazy() -> dict[str, str]:
    """Command name -> "module:attr"; a command is named like the object it is bound to."""
    return {path.rsplit(":", 1)[1].replace("_", "-"): path for path in COMMANDS}


def main(argv: list[str] | None = None) -> int:
    try:
        # A command may return an int: its exit code (e.g. sync: not everything delivered).
        rc = cli.main(args=argv, prog_name="lmsbridge", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except LmsbridgeError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    except OperationalError as exc:
        # The database could not be reached or used: say which, without the SQL.
        click.echo(f"error: database: {str(exc.orig).strip().splitlines()[0]}", err=True)
        return 1
    return rc if isinstance(rc, int) else 0


def run() -> None:
    sys.exit(main())
