"""`flask setup company`: a new company's document set on an empty instance."""

import tomllib
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from docmgmt.errors import DomainError
from docmgmt.extensions import db

setup_cli = AppGroup("setup", help="Set up a new company from the built-in templates.")


@setup_cli.command("company")
@click.option(
    "--facts",
    "facts_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="TOML file of the company's facts, departments and people "
    "(docmgmt/starter/example-facts.toml).",
)
@click.option("--company", help="The company's name (overrides facts.company).")
@click.option("--address", help="The company's address (overrides facts.address).")
@click.option("--products", help="Products and services, separated by 、 or commas.")
@click.option(
    "--prefix",
    help="The document number prefix (overrides prefix); it must be DOCMGMT_DOC_PREFIX, "
    "which numbering reads.",
)
def setup_company(facts_file, company, address, products, prefix):
    """Create the departments, people, the service manual, the 22 procedures and the record
    forms as A0 drafts, the record types, the training matrix and the clause map, all at once
    or not at all."""
    from docmgmt.starter import kit
    from docmgmt.starter.placeholders import open_by_document

    # Messages in the default language (DOCMGMT_DEFAULT_LOCALE), as the rest of the CLI.
    try:
        raw = tomllib.loads(facts_file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise click.ClickException(
            _("%(file)s: cannot be read: %(error)s", file=facts_file.name, error=exc.strerror)
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise click.ClickException(
            _("%(file)s: not valid TOML: %(error)s", file=facts_file.name, error=exc)
        ) from None
    if isinstance(raw.get("facts"), dict):
        for key, value in (("company", company), ("address", address), ("products", products)):
            if value is not None:
                raw["facts"][key] = value
    if prefix is not None:
        raw["prefix"] = prefix
    try:
        facts = kit.read_facts(raw, name=facts_file.name)
        result = kit.set_up(facts)
        open_docs = open_by_document()
        db.session.commit()
    except (kit.SetupError, DomainError) as exc:
        db.session.rollback()
        message = getattr(exc, "message", None) or str(exc)
        raise click.ClickException(_("Nothing was set up: %(e)s", e=message)) from None
    click.echo(
        f"Set up {facts.facts['company']}: {len(result.documents)} drafts "
        f"({result.documents[0].number}, {result.documents[1].number} … "
        f"{result.documents[-1].number}), {len(result.forms)} record forms"
        + (f" ({result.forms[0].number} … {result.forms[-1].number})" if result.forms else "")
        + ", record types, training matrix and clause map."
    )
    for username, password in result.passwords.items():
        click.echo(f"  new user {username:12} first password {password}")
    for username in result.mapped:
        click.echo(f"  existing user {username} kept")
    click.echo(
        f"{len(open_docs)} document(s) still hold placeholders 【待填写：…】 to fill in; "
        "see /setup/checklist."
    )
