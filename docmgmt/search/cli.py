"""flask --app wsgi search reindex | check | status"""

import click
from flask.cli import AppGroup

search_cli = AppGroup("search", help="The full-text index: rebuild, compare with the database.")


@search_cli.command("reindex")
@click.option(
    "--background",
    is_flag=True,
    help="Leave the rebuild to a worker (a job; its progress on the jobs page).",
)
def reindex_command(background):
    """Rebuild the index from the database (searches keep working meanwhile)."""
    from docmgmt import search

    if background:
        from docmgmt.jobs.maintenance import AlreadyRunning, submit_reindex

        try:
            job = submit_reindex()
        except AlreadyRunning as exc:
            raise click.ClickException(
                f"a rebuild is already {exc.job.state} (job {exc.job.id}): wait for it"
            ) from None
        click.echo(f"job {job.id} ({job.key}): {job.state}; `flask jobs list` shows its progress")
        return

    bar = {"bar": None}

    def total(n):
        bar["bar"] = click.progressbar(length=n, label="Indexing", show_pos=True)
        bar["bar"].__enter__()

    try:
        n = search.reindex(progress=lambda k: bar["bar"].update(k), total_cb=total)
    finally:
        if bar["bar"] is not None:
            bar["bar"].__exit__(None, None, None)
    where = "the database" if search.backend().transactional else search.index_dir()
    click.echo(f"{n} entries indexed in {where} ({search.backend().name} engine)")


@search_cli.command("check")
@click.option("--fix", is_flag=True, help="Re-index what differs.")
def check_command(fix):
    """Report every difference between the database and the index; exit 1 if any."""
    from docmgmt import search

    rep = search.check(fix=fix)
    click.echo(f"database entries: {rep.entries}  indexed: {rep.indexed}  waiting: {rep.pending}")
    for label, keys in (("missing", rep.missing), ("extra", rep.extra), ("stale", rep.stale)):
        if keys:
            shown = ", ".join(keys[:20]) + (" …" if len(keys) > 20 else "")
            click.echo(f"{label} ({len(keys)}): {shown}")
    if rep.ok:
        click.echo("index matches the database")
    elif fix:
        after = search.check()
        click.echo("repaired" if after.ok else "still differs: run `search reindex`")
        raise SystemExit(0 if after.ok else 1)
    else:
        raise SystemExit(1)
