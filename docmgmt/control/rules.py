"""Pure date rules of document control: review intervals."""

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_review_date(
    interval_months: int, last_review: date | None, in_force_since: date | None
) -> date | None:
    """Reviews fall due an interval after the later of the last review and the last issue."""
    starts = [d for d in (last_review, in_force_since) if d is not None]
    if not starts:
        return None
    return add_months(max(starts), interval_months)
