from datetime import UTC, datetime

import click

from lmsbridge.core.cli.app import App, pass_app


@click.group()
def license() -> None:  # noqa: A001 - the command's name
    """Program licenses (seats) taken by SSO."""


@license.command()
@click.option("--tenant", required=True)
@click.option("--program", "program_id", required=True)
@click.option("--learner", "learner_id", help="The learner's id.")
@click.option("--email", help="Or the learner's email.")
@pass_app
def release(app: App, tenant: str, program_id: str, learner_id: str | None,
            email: str | None) -> None:
    """Free a learner's license so another can take it ("Remove Learners")."""
    if (learner_id is None) == (email is None):
        raise click.UsageError("give exactly one of --learner or --email")
    freed = app.store.licenses.release(tenant, program_id, learner_id=learner_id, email=email,
                                       now=datetime.now(UTC))
    click.echo(f"released the license of learner {freed} for program {program_id} "
               f"(tenant {tenant})")
