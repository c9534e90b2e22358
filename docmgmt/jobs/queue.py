"""The task queue (Huey): which broker carries the jobs, chosen by DOCMGMT_QUEUE_URL.

- empty: a SQLite file next to the database (``instance/queue.sqlite3``), no server needed;
  ``make run`` starts a worker beside the development server.
- ``redis://host:6379/0``: Redis, for several app servers and workers (``make cluster``).
- ``immediate``: every job runs at once in the process that asked for it (the tests).

The queue only carries "run job N": what the job is, its state and progress, and whether its
effect has happened are in the ``job`` table (docmgmt/jobs/operations.py). A message lost with
a killed worker is harmless: the sweeper finds the job's lease expired and queues it again.
"""

from __future__ import annotations

from pathlib import Path

from huey import Huey
from huey.storage import RedisStorage, SqliteStorage

# Created in immediate mode (in memory, nothing opened at import); configure() points it at
# the real broker when the app is made.
huey = Huey("docmgmt", immediate=True, results=False, utc=True)


def configure(app) -> None:
    url = (app.config.get("QUEUE_URL") or "").strip()
    if not url and app.config.get("TESTING"):
        url = "immediate"
    if url == "immediate":
        huey.immediate = True
        return
    if url.startswith(("redis://", "rediss://", "unix://")):
        storage_class, kwargs = RedisStorage, {"url": url}
    else:
        path = url.removeprefix("sqlite:///") if url else ""
        if not path:
            path = str(Path(app.instance_path) / "queue.sqlite3")
        storage_class, kwargs = SqliteStorage, {"filename": path}
    if not huey.immediate and huey.storage_class is storage_class and huey.storage_kwargs == kwargs:
        return
    huey.storage_class, huey.storage_kwargs = storage_class, kwargs
    huey._immediate = False  # the setter would build the old storage first
    huey.storage = huey.create_storage()


def describe() -> str:
    if huey.immediate:
        return "immediate"
    return f"{huey.storage_class.__name__} {huey.storage_kwargs}"
