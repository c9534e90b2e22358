"""Command-line verbs: users, tokens, demo data, scheduled revisions."""

from datetime import UTC, datetime, time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from docmgmt.auth import operations as auth_ops
from docmgmt.auth.models import Department, Role, User
from docmgmt.clock import company_tz
from docmgmt.errors import DomainError
from docmgmt.extensions import db

users_cli = AppGroup("users", help="Create and manage users.")
tokens_cli = AppGroup("tokens", help="Personal API tokens.")
revisions_cli = AppGroup("revisions", help="Revision housekeeping.")
demo_cli = AppGroup("demo", help="Demo data.")
audit_cli = AppGroup("audit", help="The audit trail.")
notify_cli = AppGroup("notify", help="E-mail notices.")


@notify_cli.command("daily")
def notify_daily():
    """Mail what a date brings near (periodic reviews, the next certification audit); run it
    once a day from cron.  Each notice goes out once."""
    from docmgmt.control.reminders import daily_notices

    counts = daily_notices()
    db.session.commit()
    click.echo(
        f"review notices: {counts['review_due']}, audit notices: {counts['surveillance_due']}"
    )


@audit_cli.command("verify")
@click.option(
    "--anchor",
    "anchor_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="An anchor file, a backup or evidence pack .zip, or its manifest.json kept elsewhere: "
    "the events it anchors must still be in the chain.",
)
def audit_verify(anchor_files):
    """Check the audit trail's hash chain, its seal and its anchors; exit 1 if broken."""
    from docmgmt.audit.chain import AnchorFileError, read_anchors, verify

    anchors = []
    try:
        for path in anchor_files:
            anchors += read_anchors(path)
    except AnchorFileError as exc:
        raise click.ClickException(str(exc)) from exc
    result = verify(db.session, anchors=anchors)
    if result.ok:
        click.echo(
            f"audit trail intact: {result.checked} events, chain verified, sealed at "
            f"#{result.sealed_seq}, {result.anchors_checked} anchors checked"
        )
        return
    if result.first_bad_seq is None:  # an anchor that cannot be checked, not an event
        click.echo(
            f"audit trail BROKEN: {result.reason}; "
            f"the {result.checked} events of the chain link correctly"
        )
        raise SystemExit(1)
    where = f"event {result.first_bad_id} (#{result.first_bad_seq})"
    if result.first_bad_id is None:
        where = f"event #{result.first_bad_seq}"
    click.echo(
        f"audit trail BROKEN at {where}: {result.reason}; "
        f"{result.checked} events before it are intact"
    )
    raise SystemExit(1)


@audit_cli.command("anchor")
def audit_anchor():
    """Write the chain's seal to the anchor file and the log (run daily from cron; copy the
    file somewhere the app cannot write, such as another machine)."""
    from docmgmt.audit.operations import anchor_now

    line = anchor_now()
    click.echo(f"anchored event #{line['seq']} {line['hash']} on {line['date']}")


storage_cli = AppGroup("storage", help="The file store.")


@storage_cli.command("check")
@click.option("--fix", is_flag=True, help="Delete orphan files older than an hour.")
def storage_check(fix):
    """Missing, corrupt and orphan files; exit 1 if a referenced file is missing or corrupt."""
    from docmgmt import storage

    rep = storage.check(fix=fix)
    click.echo(f"referenced: {rep['referenced']}  files: {rep['files']}")
    for label in ("missing", "corrupt", "orphans", "removed"):
        if rep[label]:
            click.echo(f"{label} ({len(rep[label])}): {', '.join(d[:12] for d in rep[label][:20])}")
    if rep["missing"] or rep["corrupt"]:
        raise SystemExit(1)
    click.echo("every referenced file is present and intact")


@click.command("backup")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Archive to write (default: instance/backups/docmgmt-<time>.zip).",
)
def backup_command(output):
    """Write one archive: a consistent copy of the database, the files, a manifest of hashes."""
    import time as _time
    from pathlib import Path

    from flask import current_app

    from docmgmt.backup import BackupError, backup

    if output is None:
        folder = Path(current_app.instance_path) / "backups"
        folder.mkdir(parents=True, exist_ok=True)
        output = folder / f"docmgmt-{datetime.now(UTC):%Y%m%d-%H%M%S}.zip"
    started = _time.perf_counter()
    try:
        manifest = backup(Path(output))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{output}: {len(manifest['files'])} files, "
        f"{sum(manifest['tables'].values())} rows in {len(manifest['tables'])} tables, "
        f"{_time.perf_counter() - started:.1f} s"
    )


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace the data of an instance that has some.")
def restore_command(archive, force):
    """Rebuild this instance from a backup archive, then re-create the search index."""
    import time as _time
    from pathlib import Path

    from docmgmt.backup import BackupError, restore

    started = _time.perf_counter()
    try:
        manifest = restore(Path(archive), force=force, progress=lambda s: click.echo(f"  {s} ok"))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"restored {sum(manifest['tables'].values())} rows and "
        f"{len([f for f in manifest['files'] if f.startswith('storage/')])} files "
        f"in {_time.perf_counter() - started:.1f} s; every count and hash checked"
    )


def _fail(exc: DomainError):
    db.session.rollback()
    raise click.ClickException(exc.message)


@users_cli.command("create")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name as it appears on signatures.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="Repeat for several roles.",
)
@click.option("--department", default=None, help="Department code, e.g. QA.")
@click.option("--email", default="")
@click.option("--job-title", default="")
@click.option("--expires", default=None, help="Last day of access (auditors), YYYY-MM-DD.")
@click.option("--starts", default=None, help="First day of access (auditors), YYYY-MM-DD.")
@click.option(
    "--audit-department",
    "audit_departments",
    multiple=True,
    help="Limit an auditor to this department (code); repeat for several.",
)
@click.password_option(help="Asked for when not given.")
def create_user(
    username,
    full_name,
    roles,
    department,
    email,
    job_title,
    expires,
    starts,
    audit_departments,
    password,
):
    """Create a user."""
    dep = None
    if department:
        dep = db.session.scalar(select(Department).where(Department.code == department))
        if dep is None:
            raise click.ClickException(f"No department with code {department}.")
    expires_dt = None
    if expires:
        try:
            day = datetime.strptime(expires, "%Y-%m-%d").date()
        except ValueError:
            raise click.ClickException("--expires must be YYYY-MM-DD.") from None
        expires_dt = datetime.combine(day, time(23, 59, 59), tzinfo=company_tz()).astimezone(UTC)
    starts_dt = None
    if starts:
        try:
            day = datetime.strptime(starts, "%Y-%m-%d").date()
        except ValueError:
            raise click.ClickException("--starts must be YYYY-MM-DD.") from None
        starts_dt = datetime.combine(day, time(0, 0), tzinfo=company_tz()).astimezone(UTC)
    try:
        user = auth_ops.create_user(
            None,
            username,
            full_name,
            password,
            roles,
            department=dep,
            email=email,
            job_title=job_title,
            access_expires_dt=expires_dt,
            access_starts_dt=starts_dt,
            audit_departments=list(audit_departments),
        )
        db.session.commit()
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Created user {user.username} ({', '.join(sorted(r.value for r in user.roles))}).")


@users_cli.command("deactivate")
@click.argument("username")
def deactivate_user(username):
    """Deactivate a user (users are never deleted)."""
    user = db.session.scalar(User.by_username(username))
    if user is None:
        raise click.ClickException(f"No user {username}.")
    auth_ops.set_active(None, user, False)
    db.session.commit()
    click.echo(f"Deactivated {username}.")


@users_cli.command("sync-directory")
def sync_directory():
    """Check every directory account against the company directory (safe from cron).

    Leavers and people in no mapped group are deactivated (never deleted); the others get
    their current name, e-mail, department and roles. A directory that cannot be asked, or
    that finds nobody under the user base, changes nothing and ends with an error."""
    from docmgmt.auth import directory

    if not directory.enabled():
        raise click.ClickException("The directory log-in is off (DOCMGMT_LDAP_URL is empty).")
    try:
        report = directory.sync()
        db.session.commit()
    except DomainError as exc:
        _fail(exc)
    for name in report.deactivated_left:
        click.echo(f"Deactivated {name}: no longer in the directory.")
    for name in report.deactivated_no_group:
        click.echo(f"Deactivated {name}: in no mapped group.")
    for name in report.updated:
        click.echo(f"Updated {name} from the directory.")
    click.echo(
        f"{len(report.deactivated_left) + len(report.deactivated_no_group)} deactivated, "
        f"{len(report.updated)} updated, {report.unchanged} unchanged."
    )


@users_cli.command("list")
def list_users():
    """List users with their roles."""
    for u in db.session.scalars(select(User).order_by(User.username)):
        state = "active" if u.is_active_flag else "inactive"
        click.echo(
            f"{u.username:16} {u.full_name:12} {state:8} "
            f"{','.join(sorted(r.value for r in u.roles))}"
        )


@tokens_cli.command("create")
@click.argument("username")
@click.option("--name", default="cli", help="What the token is for.")
def create_token(username, name):
    """Create a personal API token and print it once."""
    user = db.session.scalar(User.by_username(username))
    if user is None:
        raise click.ClickException(f"No user {username}.")
    try:
        _token, secret = auth_ops.create_token(user, name)
        db.session.commit()
    except DomainError as exc:
        _fail(exc)
    click.echo(secret)


@revisions_cli.command("activate")
def activate():
    """Make effective every revision whose effective date has come (run daily from cron)."""
    from docmgmt.versioning.scheduling import apply_due_revisions

    done = apply_due_revisions()
    for rev in done:
        click.echo(f"{rev.document.number} {rev.version} effective {rev.effective_date}")
    click.echo(f"{len(done)} revision(s) activated.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when users already exist.")
def load_demo(if_empty):
    """Load the demo company: users, the manual, the 22 procedures and their record forms."""
    from docmgmt.demo.data import DemoDataError

    try:
        from docmgmt.demo.loader import DEMO_PASSWORD, DEMO_USERS, load
    except DemoDataError as exc:  # the data file breaks a rule: say which, change nothing
        raise click.ClickException(str(exc)) from None

    if if_empty and db.session.scalar(select(User.id).limit(1)) is not None:
        click.echo("Database already has data; demo not loaded.")
    else:
        load()
        db.session.commit()
        click.echo("Demo data loaded.")
    click.echo(f"Demo log-ins (password {DEMO_PASSWORD} for all):")
    for username, full_name, _title, roles, _dep in DEMO_USERS:
        click.echo(f"  {username:10} {full_name}  ({', '.join(roles)})")
    click.echo(f"Company: {current_app.config['COMPANY_NAME']}")


def register_cli(app):
    from docmgmt.jobs.cli import jobs_cli
    from docmgmt.search.cli import search_cli
    from docmgmt.starter.cli import setup_cli

    for group in (
        users_cli,
        tokens_cli,
        revisions_cli,
        demo_cli,
        search_cli,
        audit_cli,
        storage_cli,
        notify_cli,
        jobs_cli,
        setup_cli,
    ):
        app.cli.add_command(group)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
