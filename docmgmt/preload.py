"""Load together what a page's lines name, so that no line asks the database on its own.

``selectinload`` of a many-to-one always asks, even for rows the session holds already (the
register's documents, the signed-in user); ``preload`` asks only for the keys the session does
not hold, in one query. The session holds rows weakly: keep the returned list while the lines
are built (a view passes it on with its page)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm.util import identity_key

from docmgmt.extensions import db


def preload(model, ids) -> list:
    """The rows of ``model`` with these primary keys that the session did not hold yet."""
    session = db.session
    held = session.identity_map
    missing = sorted({i for i in ids if i is not None and identity_key(model, i) not in held})
    if not missing:
        return []
    return session.scalars(select(model).where(model.id.in_(missing))).all()
