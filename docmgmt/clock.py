"""Time in one place: UTC for storage, the company's time zone for dates people see."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow() -> datetime:
    return datetime.now(UTC)


def company_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_today(now: datetime | None = None) -> date:
    """The calendar date at the company, which is what effective dates are compared with."""
    return (now or utcnow()).astimezone(company_tz()).date()


def as_utc(dt: datetime) -> datetime:
    # SQLite gives back naive datetimes; every datetime we store is UTC.
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def to_local(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return as_utc(dt).astimezone(company_tz())
