"""The hooks an lmsbridge adapter implements. Each docstring is that hook's documentation.

An adapter is a module (or object) registered under the ``lmsbridge.adapters`` entry-point
group. It describes itself with :func:`lmsbridge_adapter`, then implements the hooks of the
capabilities it declares. The engine calls a hook only on the adapter that owns the tenant
(or provider) at hand, so an implementation never checks "is this call for me?".

Hooks that take a ``tenant`` or ``provider`` also get a ``runtime``
(:class:`~lmsbridge.core.runtime.Runtime`: own state, secrets, tool keys, HTTP session); an
implementation leaves out the arguments it does not need. They are wrapped by core for
auditing: every call leaves a record of tenant, hook, duration and outcome without the
adapter doing anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import pluggy

if TYPE_CHECKING:
    import click

    from lmsbridge.core.capabilities import AdapterSpec
    from lmsbridge.core.lti.setup import ToolConfig
    from lmsbridge.core.lti.tool_urls import ToolUrls
    from lmsbridge.core.model import (
        Context,
        Delivery,
        DeliveryResult,
        GradebookColumn,
        Program,
        Progress,
        Provider,
        Publication,
        RosterMember,
        Tenant,
    )
    from lmsbridge.core.runtime import Runtime

NAME = "lmsbridge"
hookspec = pluggy.HookspecMarker(NAME)


class MockPlatform(Protocol):
    """A running mock of an external system, served over real HTTP on loopback."""

    url: str

    def start(self) -> MockPlatform: ...

    def stop(self) -> None: ...


# --- registration -------------------------------------------------------------------------


@hookspec
def lmsbridge_adapter() -> AdapterSpec:
    """Describe this adapter: its unique name, kind, title and declared capabilities.

    Called once when the plugin is loaded. Two distributions that return the same name
    conflict: the later one is reported by distribution name and skipped.
    """


@hookspec(firstresult=True)
def lmsbridge_mock_platform() -> MockPlatform:
    """Return an unstarted mock of this adapter's platform for the conformance suite.

    The mock is a real HTTP server on 127.0.0.1 behaving like the real system (paging,
    throttling, error bodies) with ``GET /_mock/state`` and fault injection.
    """


# --- text and commands --------------------------------------------------------------------


@hookspec(firstresult=True)
def lmsbridge_platform_setup(urls: ToolUrls, tenant: str | None) -> ToolConfig:
    """Return what the platform's admin pastes to register the tool, for
    ``lmsbridge platform config KIND``: the fields in screen order under the screen's own
    labels, a JSON document when the platform takes one, and notes. ``urls`` are the tool's
    (login, launch, JWKS); ``tenant`` names the tool when given. Called on the one adapter
    named KIND.
    """


@hookspec
def lmsbridge_register_commands(cli: click.Group) -> None:
    """Add the adapter's own commands to the ``lmsbridge`` command line (``cli.group()``,
    ``cli.command()``), e.g. ``lmsbridge oracle keygen``. Called on every loaded adapter
    when a command core does not have, or the command list, is asked for. Admin commands
    named in the audit's actions are audited like core's.
    """


# --- gradebook writes ---------------------------------------------------------------------


@hookspec(firstresult=True)
def lmsbridge_ensure_columns(
    tenant: Tenant, context: Context, columns: Sequence[GradebookColumn], runtime: Runtime
) -> list[GradebookColumn]:
    """Make sure each column exists in the context's gradebook; create only what is missing.

    Idempotent: calling twice creates nothing the second time (match on ``column.key``).
    Return the columns in the same order with ``platform_ref`` set to the platform's id.
    """


@hookspec(firstresult=True)
def lmsbridge_write_grades(
    tenant: Tenant, context: Context | None, deliveries: Sequence[Delivery], runtime: Runtime
) -> list[DeliveryResult]:
    """Write scores to the platform and report one result per delivery, by ``dedupe_key``.

    A platform answer meaning "I already hold this or a newer value" is ``Outcome.CURRENT``
    (delivered, not a failure); throttling and 5xx are ``Outcome.RETRY`` with
    ``retry_after`` when the platform gave one. ``context`` is None for platforms without
    course shells (Oracle Learning).
    """


# --- roster reads -------------------------------------------------------------------------


@hookspec(firstresult=True)
def lmsbridge_read_roster(
    tenant: Tenant, context: Context, runtime: Runtime
) -> Iterable[RosterMember]:
    """Yield every member of the context, following the platform's paging to the last page."""


# --- content publishing -------------------------------------------------------------------


@hookspec(firstresult=True)
def lmsbridge_publish_content(
    tenant: Tenant, context: Context | None, publications: Sequence[Publication],
    runtime: Runtime,
) -> list[Publication]:
    """Create or update provider content on the platform; return it with ``platform_ref`` set.

    Look up by our identity (``publication.key``) first: publishing twice never duplicates,
    and unchanged content is not written again.
    """


@hookspec(firstresult=True)
def lmsbridge_retire_content(
    tenant: Tenant, context: Context | None, publications: Sequence[Publication],
    runtime: Runtime,
) -> list[Publication]:
    """Handle content removed upstream: deactivate it, or report it stale.

    Return the publications with ``retired`` set for those the platform now shows retired.
    """


# --- connection check ---------------------------------------------------------------------


@hookspec(firstresult=True)
def lmsbridge_check_connection(tenant: Tenant, runtime: Runtime) -> Sequence[str]:
    """Check that the tenant's platform accepts our credentials, for ``lmsbridge tenant
    check NAME``: one line per problem an admin can act on, empty when the connection works;
    never a secret.

    Make the cheapest authenticated request that proves it (a token, a ``GET`` of our own
    account). A refusal, an unreachable host or a missing setting is a line saying what to
    fix where, not an exception.
    """


# --- provider side ------------------------------------------------------------------------


@hookspec(firstresult=True)
def lmsbridge_read_catalog(
    provider: Provider, program_ids: Sequence[str], runtime: Runtime
) -> Iterable[Program]:
    """Yield the given programs with their courses and items, as the provider has them now."""


@hookspec(firstresult=True)
def lmsbridge_read_progress(
    provider: Provider, since: datetime | None, runtime: Runtime
) -> Iterable[Progress]:
    """Yield learner progress changed since ``since`` (everything when None)."""
