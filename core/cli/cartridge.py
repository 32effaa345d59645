"""``lmsbridge cartridge``: an IMS Common Cartridge 1.3 of LTI links for bulk import."""

from __future__ import annotations

from pathlib import Path

import click

from lmsbridge.core.cli.app import App, pass_app
from lmsbridge.core.errors import ConfigError


@click.command()
@click.option("--tenant", required=True, help="The LMS tenant; its grade-sync option decides "
              "the links (item: one per gradable item; course, final: one per course).")
@click.option("--program", "program_id", required=True, metavar="PROGRAM_ID",
              help="An activated program.")
@click.option("--course", "course_id", metavar="COURSE_ID", help="Only this course.")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              metavar="FILE.imscc", help="Where to write the package (replaced if present).")
@click.option("--cc-version", type=click.Choice(["1.3", "1.1"]), default="1.3",
              show_default=True, help="Common Cartridge version of the manifest (1.1 for "
              "importers that take only CC 1.0/1.1; see docs/cartridge.md).")
@click.option("--base-url", envvar="LMSBRIDGE_BASE_URL",
              help="The tool's public https URL (env LMSBRIDGE_BASE_URL).")
@pass_app
def cartridge(app: App, tenant: str, program_id: str, course_id: str | None, output: Path,
              cc_version: str, base_url: str | None) -> None:
    """Write a Common Cartridge package of LTI links to the program's content, titled
    and ordered like the catalog, for an LMS's course import (Moodle: course restore)."""
    from lmsbridge.core.lti import cartridge as cc
    from lmsbridge.core.lti.setup import tool_urls

    if not base_url:
        raise ConfigError("no base URL for the links: pass --base-url or set LMSBRIDGE_BASE_URL")
    urls = tool_urls(base_url)
    contents = cc.entries(app.store, tenant, program_id, course_id)
    program = app.store.cartridge.program(program_id)
    files = cc.build(program.name, urls, contents, cc_version)
    cc.validate(files)
    cc.write(output, cc.zip_bytes(files))
    click.echo(f"wrote {output}: {cc.count_links(contents)} LTI link(s) for program "
               f"{program_id} (CC {cc_version}, "
               f"{app.store.tenants.get(tenant).grade_sync} grade sync)")
