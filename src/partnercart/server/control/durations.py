"""ISO-8601 durations (``P7D``, ``PT1H30M``, ``P1M``, ``-P1D``) for moving a virtual clock."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from partnercart.server.domain.errors import BadRequest

_PATTERN = re.compile(
    r"(?P<sign>[-+])?P(?!$)"
    r"(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d{1,6})?)S)?)?"
)
#: Far enough for any test scenario, short enough that datetime arithmetic never overflows.
_LIMIT = dt.timedelta(days=365 * 200)


@dataclass(frozen=True, slots=True)
class Duration:
    """Calendar months (years are twelve) plus an exact time span, with one sign."""

    months: int
    span: dt.timedelta
    text: str

    def add_to(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` moved by this duration; month steps clamp to the month's last day."""
        if self.months:
            total = moment.year * 12 + (moment.month - 1) + self.months
            year, month = divmod(total, 12)
            month += 1
            if not 1 <= year <= 9999:
                raise BadRequest(f"Moving the clock by {self.text} leaves the calendar.")
            day = min(moment.day, calendar.monthrange(year, month)[1])
            moment = moment.replace(year=year, month=month, day=day)
        try:
            return moment + self.span
        except OverflowError as exc:
            raise BadRequest(f"Moving the clock by {self.text} leaves the calendar.") from exc


def parse_duration(text: str) -> Duration:
    """Parse an ISO-8601 duration; a 400 (800002) names the bad value otherwise."""
    cleaned = text.strip().upper() if isinstance(text, str) else ""
    match = _PATTERN.fullmatch(cleaned)
    if match is None or cleaned.endswith("T"):
        raise BadRequest(
            f"{text!r} is not an ISO-8601 duration; use for example P7D, PT1H30M or P1M.",
            data=["duration"],
        )
    parts = match.groupdict()
    sign = -1 if parts["sign"] == "-" else 1
    seconds = float((parts["seconds"] or "0").replace(",", "."))
    months = int(parts["years"] or 0) * 12 + int(parts["months"] or 0)
    try:
        span = dt.timedelta(
            weeks=int(parts["weeks"] or 0),
            days=int(parts["days"] or 0),
            hours=int(parts["hours"] or 0),
            minutes=int(parts["minutes"] or 0),
            seconds=seconds,
        )
    except OverflowError:
        span = _LIMIT * 2
    if span > _LIMIT or months > 12 * 200:
        raise BadRequest(f"The duration {text!r} is too long (at most 200 years).")
    return Duration(months=sign * months, span=sign * span, text=cleaned)
