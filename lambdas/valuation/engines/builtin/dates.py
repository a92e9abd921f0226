"""Dates, tenors and day counts, kept deliberately simple.

- ACT/365F: `(end - start).days / 365`, the time axis of every curve and discount factor.
- A tenor `nD`, `nW`, `nM`, `nY` on a curve is `n/365`, `7n/365`, `n/12`, `n` years; added to a
  date it moves by days, weeks or calendar months (the day clamped to the month's end).
- No holiday calendars and no business-day adjustment: payments fall on their schedule dates.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

TENOR = re.compile(r"^\s*(\d+)\s*([DWMY])\s*$", re.IGNORECASE)
DAYS_PER_YEAR = 365.0
# Payments a year that divide the year into whole months.
PAYMENT_FREQUENCIES = ("1", "2", "3", "4", "6", "12")


def parse_date(text: str) -> date:
    """An ISO date, YYYY-MM-DD; ValueError otherwise."""
    return date.fromisoformat(text.strip())


def year_fraction(start: date, end: date) -> float:
    """ACT/365F."""
    return (end - start).days / DAYS_PER_YEAR


def add_months(day: date, months: int) -> date:
    """Calendar months later (earlier when negative), the day clamped to the month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _tenor_parts(tenor: str) -> tuple[int, str]:
    match = TENOR.match(tenor)
    if not match:
        raise ValueError(f"tenor {tenor!r} is not of the form nD, nW, nM or nY")
    return int(match.group(1)), match.group(2).upper()


def tenor_years(tenor: str) -> float:
    count, unit = _tenor_parts(tenor)
    return count * {"D": 1 / DAYS_PER_YEAR, "W": 7 / DAYS_PER_YEAR, "M": 1 / 12, "Y": 1.0}[unit]


def add_tenor(day: date, tenor: str) -> date:
    count, unit = _tenor_parts(tenor)
    if unit == "D":
        return day + timedelta(days=count)
    if unit == "W":
        return day + timedelta(weeks=count)
    return add_months(day, count * (12 if unit == "Y" else 1))


def schedule_back_from(end: date, months: int, after: date) -> list[date]:
    """Dates `end`, `end - months`, `end - 2*months`, ... strictly after `after`, ascending.

    Each date is counted from `end` (never from the previous date) so month-end days do not drift.
    """
    dates: list[date] = []
    step = 0
    while (day := add_months(end, -months * step)) > after:
        dates.append(day)
        step += 1
    return dates[::-1]
