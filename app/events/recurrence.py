"""Recurrence of events: RFC 5545 RRULE values checked, normalised and expanded with
python-dateutil in the event's wall-clock time zone (a market "every Sunday at 06:00" stays at
06:00 local whatever the offset does). Pure functions: no database, no request."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

#: Events repeat daily at most; anything finer would flood every list and calendar.
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
PARTS = (
    "FREQ",
    "UNTIL",
    "COUNT",
    "INTERVAL",
    "BYSECOND",
    "BYMINUTE",
    "BYHOUR",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
)
MAX_COUNT = 1000
_UNTIL_UTC = re.compile(r"^\d{8}T\d{6}Z$")
_UNTIL_FLOATING = re.compile(r"^\d{8}T\d{6}$")
_UNTIL_DATE = re.compile(r"^\d{8}$")


class InvalidRule(ValueError):
    """The RRULE value cannot be used; the message says why (in English, for the API)."""


def zone_of(name: str) -> ZoneInfo:
    """The IANA time zone, or ValueError."""
    if not name or "\x00" in name or name.startswith(("/", ".")) or ".." in name:
        raise ValueError("not an IANA time zone such as Asia/Ho_Chi_Minh")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("not an IANA time zone such as Asia/Ho_Chi_Minh") from exc


def _split(value: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for piece in value.split(";"):
        if not piece:
            continue
        name, sep, part = piece.partition("=")
        name = name.strip().upper()
        if not sep or not part.strip():
            raise InvalidRule(f"'{piece}' is not NAME=VALUE")
        if name not in PARTS:
            raise InvalidRule(f"{name} is not a part of an RRULE")
        if name in parts:
            raise InvalidRule(f"{name} is given twice")
        parts[name] = part.strip().upper()
    return parts


def _join(parts: dict[str, str]) -> str:
    ordered = sorted(parts, key=PARTS.index)
    return ";".join(f"{name}={parts[name]}" for name in ordered)


def check_syntax(value: str) -> str:
    """The RRULE value tidied (upper case, canonical order, no "RRULE:" prefix) when dateutil
    can read it and it has a FREQ of at least a day; InvalidRule otherwise."""
    text = value.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if "\n" in text or ":" in text:
        raise InvalidRule("give only the RRULE value, e.g. FREQ=WEEKLY;BYDAY=SU")
    parts = _split(text)
    if "FREQ" not in parts:
        raise InvalidRule("FREQ is required, e.g. FREQ=WEEKLY")
    if parts["FREQ"] not in FREQUENCIES:
        raise InvalidRule(f"FREQ must be one of {', '.join(FREQUENCIES)}")
    if "UNTIL" in parts and "COUNT" in parts:
        raise InvalidRule("give UNTIL or COUNT, not both")
    if "COUNT" in parts and not (
        parts["COUNT"].isdigit() and 1 <= int(parts["COUNT"]) <= MAX_COUNT
    ):
        raise InvalidRule(f"COUNT must be 1 to {MAX_COUNT}")
    until = parts.get("UNTIL")
    if until is not None and not (
        _UNTIL_UTC.match(until) or _UNTIL_FLOATING.match(until) or _UNTIL_DATE.match(until)
    ):
        raise InvalidRule("UNTIL must be a date (20261231) or a time (20261231T170000Z)")
    tidy = _join(parts)
    # dateutil decides the rest; UNTIL is made naive here only to test the syntax.
    probe = _join({**parts, "UNTIL": until.rstrip("Z")}) if until else tidy
    try:
        rrulestr(probe, dtstart=datetime(2000, 1, 1))
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise InvalidRule(f"not a valid RRULE: {exc}") from exc
    return tidy


def with_utc_until(value: str, zone: ZoneInfo) -> str:
    """UNTIL in UTC, as RFC 5545 wants next to a DTSTART with a TZID: a date means the end of
    that day, a time without Z the wall clock, both in the event's time zone."""
    parts = _split(value)
    until = parts.get("UNTIL")
    if until is None or until.endswith("Z"):
        return value
    if _UNTIL_DATE.match(until):
        local = datetime.combine(datetime.strptime(until, "%Y%m%d").date(), time(23, 59, 59))
    else:
        local = datetime.strptime(until, "%Y%m%dT%H%M%S")
    parts["UNTIL"] = local.replace(tzinfo=zone).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return _join(parts)


def with_date_until(value: str, zone: ZoneInfo) -> str:
    """UNTIL as a local date: what RFC 5545 wants next to an all-day (VALUE=DATE) DTSTART."""
    parts = _split(value)
    until = parts.get("UNTIL")
    if until is None or _UNTIL_DATE.match(until):
        return value
    if until.endswith("Z"):
        moment = datetime.strptime(until, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).astimezone(zone)
    else:
        moment = datetime.strptime(until, "%Y%m%dT%H%M%S")
    parts["UNTIL"] = moment.strftime("%Y%m%d")
    return _join(parts)


def parts_of(value: str) -> dict[str, str]:
    return _split(value)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When an event happens: its first occurrence (aware, in its own zone) and its rule."""

    starts_at: datetime
    ends_at: datetime
    zone: ZoneInfo
    rule: str | None = None

    @classmethod
    def of(cls, event: Any) -> Schedule:
        zone = ZoneInfo(event.time_zone)
        return cls(
            event.starts_at.astimezone(zone), event.ends_at.astimezone(zone), zone, event.rrule
        )

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    def _rrule(self) -> rrule:
        assert self.rule
        # UNTIL is stored in UTC (with_utc_until); dateutil compares it with the aware start.
        return rrulestr(self.rule, dtstart=self.starts_at)

    def first_start(self) -> datetime | None:
        if not self.rule:
            return self.starts_at
        return next(iter(self._rrule()), None)

    def last_end(self) -> datetime | None:
        """End of the last occurrence; None when the rule never ends."""
        if not self.rule:
            return self.ends_at
        parts = _split(self.rule)
        if "COUNT" not in parts and "UNTIL" not in parts:
            return None
        last = None
        for last in self._rrule():  # noqa: B007 - bounded by COUNT or UNTIL
            pass
        return (last or self.starts_at) + self.duration

    def between(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Occurrences that overlap [start, end): (start, end) in the event's zone, in order."""
        length = self.duration
        if not self.rule:
            if self.starts_at < end and self.ends_at > start:
                yield self.starts_at, self.ends_at
            return
        # An occurrence overlaps when it starts in (start - length, end).
        for moment in self._rrule().xafter(start - length, inc=False):
            if moment >= end:
                return
            yield moment, moment + length

    def next(self, now: datetime, count: int) -> list[tuple[datetime, datetime]]:
        """The occurrence under way and the next ones, at most `count`."""
        found: list[tuple[datetime, datetime]] = []
        far = now + timedelta(days=366 * 50)
        for occurrence in self.between(now, far):
            found.append(occurrence)
            if len(found) == count:
                break
        return found


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0)).replace(tzinfo=zone)
