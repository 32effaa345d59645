import click

from lmsbridge.core.cli.app import App, pass_app
from lmsbridge.core.lti.licenses import release_license
from lmsbridge.core.store.schema import now


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
    with app.store.engine.begin() as conn:
        freed = release_license(conn, tenant, program_id, learner_id=learner_id, email=email,
                                now=now())
    click.echo(f"released the license of learner {freed} for program {program_id} "
               f"(tenant {tenant})")
