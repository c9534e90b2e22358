"""The search outbox: which index entries a committed transaction changed.

A row is written in the same transaction as the change it describes, so a rolled-back change
leaves nothing to index and a committed one is never forgotten, even if the process dies
before the index is updated. Rows are removed once the index holds the change.

Rows are applied by ``priority``, then in order: a removal (a disposal, a withdrawal, a
revision leaving force) before any other change, and the rows of a bulk import last, so a
disposed record's name never waits behind thousands of imported rows.
"""

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from docmgmt.clock import utcnow
from docmgmt.extensions import db

REMOVAL, CHANGE, BULK = 0, 1, 2


class SearchOutbox(db.Model):
    __tablename__ = "search_outbox"
    __table_args__ = (Index("ix_search_outbox_priority", "priority", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group: Mapped[str] = mapped_column(String(60))
    queued_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # 0 a removal, 1 any other change, 2 a bulk import's rows (see docmgmt/search/__init__.py)
    priority: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")


class SearchEntry(db.Model):
    """One index entry of the PostgreSQL engine (docmgmt/search/pg.py), written in the same
    transaction as the change it reflects. The table exists on every database so that models
    and migrations agree; only the PostgreSQL engine fills it (``terms`` is a ``tsvector``
    there, with a GIN index, and plain text elsewhere)."""

    __tablename__ = "search_entry"
    __table_args__ = (
        # GIN on PostgreSQL; on SQLite a plain index over an empty column, so both agree.
        Index("ix_search_entry_terms", "terms", postgresql_using="gin"),
    )

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    grp: Mapped[str] = mapped_column(String(60), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    doc_type: Mapped[str] = mapped_column(String(40), default="")
    department: Mapped[str] = mapped_column(String(40), default="")
    state: Mapped[str] = mapped_column(String(20), default="")
    audience: Mapped[str] = mapped_column(String(20), default="all")
    day: Mapped[int] = mapped_column(Integer, default=0)
    number: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="")
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    fingerprint: Mapped[str] = mapped_column(String(40), default="")
    # Folded, lower-cased text for the exact checks on candidates (see query.build).
    text: Mapped[str] = mapped_column(Text, default="")
    ftitle: Mapped[str] = mapped_column(Text, default="")
    fnumber: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[str | None] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"))
