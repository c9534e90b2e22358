"""Time in one place: UTC for storage, the company's time zone for dates people see."""

from datetime import UTC, date, datetime, time
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


def local_date(dt: datetime) -> date:
    """The company's calendar date of a stored instant (a record filed at 07:30 in Shanghai is
    filed that day, although it is still the day before in UTC)."""
    return as_utc(dt).astimezone(company_tz()).date()


def day_start(day: date) -> datetime:
    """The instant (UTC) at which a calendar day begins at the company: the bound of a date
    filter over stored instants."""
    return datetime.combine(day, time.min, tzinfo=company_tz()).astimezone(UTC)
