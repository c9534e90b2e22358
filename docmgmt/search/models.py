"""The search outbox: which index entries a committed transaction changed.

A row is written in the same transaction as the change it describes, so a rolled-back change
leaves nothing to index and a committed one is never forgotten, even if the process dies
before the index is updated. Rows are removed once the index holds the change.

Rows are applied by ``priority``, then in order: a removal (a disposal, a withdrawal, a
revision leaving force) before any other change, and the rows of a bulk import last, so a
disposed record's name never waits behind thousands of imported rows.
"""

from datetime import datetime

from sqlalchemy import DateTime, Index, SmallInteger, String
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
