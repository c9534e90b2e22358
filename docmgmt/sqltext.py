"""Text matching in SQL with what a user typed: ``%`` and ``_`` are characters, not wildcards.

Every "contains" / "starts with" filter on user text goes through these helpers (the register's
``q``, the records filters, the audit trail filters). Case-insensitive on both databases
(SQLite's LIKE already is for ASCII; PostgreSQL's is not, so lower() on both sides), with
SQLAlchemy's ``autoescape``: ``%``, ``_`` and the escape character itself are escaped and the
statement carries ``ESCAPE '/'``, which SQLite and PostgreSQL both understand.
"""

from sqlalchemy import ColumnElement


def contains(column, text: str) -> ColumnElement[bool]:
    """``column`` holds ``text`` somewhere, case-insensitively, every character literal."""
    return column.icontains(text, autoescape=True)


def starts_with(column, text: str) -> ColumnElement[bool]:
    """``column`` starts with ``text``, case-insensitively, every character literal."""
    return column.istartswith(text, autoescape=True)
