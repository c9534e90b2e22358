"""The search outbox: which index entries a committed transaction changed.

A row is written in the same transaction as the change it describes, so a rolled-back change
leaves nothing to index and a committed one is never forgotten, even if the process dies
before the index is updated. Rows are removed once the index holds the change.
"""

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from docmgmt.clock import utcnow
from docmgmt.extensions import db


class SearchOutbox(db.Model):
    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    group: Mapped[str] = mapped_column(String(60))
    queued_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
