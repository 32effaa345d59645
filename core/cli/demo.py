"""``lmsbridge demo``: the whole product on an embedded default, in one command."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import attrs
import click

from lmsbridge.core.cli.app import App, emit_json, pass_app, table
from lmsbridge.core.cli.sync import show
from lmsbridge.core.demo import oracle as demo_oracle
from lmsbridge.core.demo.script import Narrator, run
from lmsbridge.core.engine.runner import SyncReport


class RichNarrator(Narrator):
    def __init__(self, app: App) -> None:
        self.app = app
        self.steps = 0

    def step(self, title: str) -> None:
        self.steps += 1
        self.app.console.rule(f"[bold]{self.steps}. {title}", align="left")

    def say(self, text: str) -> None:
        self.app.console.print(f"  {text}", highlight=False, soft_wrap=True)

    def sync_report(self, report: SyncReport) -> None:
        show(self.app, report)

    def platforms(self, title: str, rows: list[tuple[Any, ...]]) -> None:
        table(self.app, title, ["tenant", "gradebook columns", "score POSTs received",
                                "scores applied"], rows)

    def learning(self, title: str, rows: list[tuple[Any, ...]]) -> None:
        table(self.app, title, demo_oracle.HEADERS, rows)


class QuietNarrator(Narrator):
    pass


@click.command()
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="A fresh folder for the demo's SQLite database (default: a new temp dir).")
@click.option("--json", "as_json", is_flag=True, help="Print only the outcome, as JSON.")
@pass_app
def demo(app: App, folder: Path | None, as_json: bool) -> int:
    """Run the main job end to end against mock platforms (takes seconds, needs no network)."""
    folder = folder or Path(tempfile.mkdtemp(prefix="lmsbridge-demo-"))
    narrator = QuietNarrator() if as_json else RichNarrator(app)
    result = run(folder.resolve(), app.registry, narrator)
    if as_json:
        emit_json({**attrs.asdict(result), "only_changes_sent": result.only_changes_sent})
    else:
        verdict = ("[green]only the changed grades and new completions were sent[/]"
                   if result.only_changes_sent else "[red]the second sync did not send "
                   "exactly the changed grades and new completions[/]")
        o1, o2 = result.oracle_first, result.oracle_second
        app.console.rule("[bold]Done", align="left")
        app.console.print(f"  {result.deep_links} links published, {result.launches} SSO "
                          f"launches; Oracle got {o1['content_created']} course(s) as content "
                          f"and {o1['statements']} xAPI statement(s). Sync #2 sent "
                          f"{sum(result.resent.values())} grade(s) for "
                          f"{sum(result.changed.values())} upstream change(s), and Oracle "
                          f"{o2['completions']} completion(s) for {result.completed} finished "
                          f"course(s) with {o2['content_writes']} content write(s): {verdict}; "
                          f"{result.seconds} s. Database kept in {result.folder}",
                          highlight=False)
    return 0 if result.only_changes_sent and result.delivered_everything else 1
