"""iCalendar (RFC 5545) for calendar apps, written with the `icalendar` library: one VEVENT per
event, a recurring one with its RRULE (the app expands it), times with their TZID and a
VTIMEZONE for each zone used, and a stable UID so that a subscribed calendar updates an event
rather than adding it twice."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import icalendar

from app.events import recurrence
from app.events.repository import EventRow
from app.events.views import category_label, price
from app.kit.i18n import gettext as _
from app.kit.langtext import pick

PRODID = "-//Citizen Hub//Events of Yên Bái province//VI"
UID_DOMAIN = "citizenhub"
MEDIA_TYPE = "text/calendar; charset=utf-8"
PROVINCE_ZONE = "Asia/Ho_Chi_Minh"


def uid_of(code: str) -> str:
    return f"{code}@{UID_DOMAIN}"


@cache
def _vtimezone(tzid: str) -> bytes:
    # Built once per zone (it walks the zone's transitions); kept as text, parsed per use.
    component = icalendar.Timezone.from_tzid(tzid)
    component.pop("COMMENT", None)  # "only works until 2038": true of the transitions listed only
    return component.to_ical()


def vtimezone(tzid: str) -> icalendar.Timezone:
    component = icalendar.Timezone.from_ical(_vtimezone(tzid))
    assert isinstance(component, icalendar.Timezone)
    return component


def _description(row: EventRow, locale: str, page_url: str) -> str:
    event = row.event
    lines = [pick(event.description, locale)]
    cost = price(event, locale)
    lines.append(_("Price: %(price)s", price=cost.text) + (f" ({cost.note})" if cost.note else ""))
    notes = pick(event.accessibility_notes, locale)
    if notes:
        lines.append(_("Accessibility: %(notes)s", notes=notes))
    lines.append(page_url)
    return "\n\n".join(line for line in lines if line)


def _location(row: EventRow, locale: str) -> str:
    if row.place is not None:
        return pick(row.place.name, locale) or row.place.code
    return pick(row.event.venue, locale)


def vevent(row: EventRow, locale: str, base_url: str) -> icalendar.Event:
    event = row.event
    zone = ZoneInfo(event.time_zone)
    page_url = f"{base_url}/events/{event.code}"
    item = icalendar.Event()
    item.add("uid", uid_of(event.code))
    # DTSTAMP is the last change, not the moment of the download: the same events give the same
    # bytes, so the ETag holds and a calendar app sees no change when there was none.
    item.add("dtstamp", event.updated_at.astimezone(UTC))
    item.add("created", event.created_at.astimezone(UTC))
    item.add("last-modified", event.updated_at.astimezone(UTC))
    if event.all_day:
        first: date = event.starts_at.astimezone(zone).date()
        after: date = event.ends_at.astimezone(zone).date()
        item.add("dtstart", first)
        item.add("dtend", max(after, first + timedelta(days=1)))
    else:
        item.add("dtstart", event.starts_at.astimezone(zone))
        item.add("dtend", event.ends_at.astimezone(zone))
    if event.rrule:
        rule = recurrence.with_date_until(event.rrule, zone) if event.all_day else event.rrule
        item.add("rrule", icalendar.vRecur.from_ical(rule))
    item.add("summary", pick(event.title, locale))
    item.add("description", _description(row, locale, page_url))
    location = _location(row, locale)
    if location:
        item.add("location", location)
    if row.place is not None:
        item.add("geo", (row.place.lat, row.place.lon))
    item.add("url", page_url)
    item.add("categories", [category_label(event.category)])
    item.add("status", "CONFIRMED")
    return item


def calendar(rows: Iterable[EventRow], locale: str, base_url: str, name: str) -> bytes:
    """A VCALENDAR of the events; the province's VTIMEZONE is always there, and one for any
    other zone an event uses."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", PROVINCE_ZONE)
    cal.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
    rows = list(rows)
    for tzid in sorted({PROVINCE_ZONE} | {row.event.time_zone for row in rows}):
        cal.add_component(vtimezone(tzid))
    for row in rows:
        cal.add_component(vevent(row, locale, base_url))
    return cal.to_ical()
