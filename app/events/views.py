"""Events as people and apps see them; shared by the JSON API, the pages and the iCalendar feed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_interval, format_time, get_day_names

from app.events import recurrence
from app.events.models import Event, EventCategory
from app.events.repository import EventRow
from app.events.schemas import (
    EventRead,
    LinksRead,
    OccurrenceRead,
    PriceRead,
    VenueRead,
    WhenRead,
)
from app.events.service import Occurrence, next_occurrences
from app.kit.i18n import N_, format_money, use_locale
from app.kit.i18n import gettext as _
from app.kit.langtext import language_of, pick

CATEGORY_LABELS: dict[str, str] = {
    EventCategory.festival: N_("Festival"),
    EventCategory.market: N_("Market"),
    EventCategory.performance: N_("Performance"),
    EventCategory.sport: N_("Sport"),
    EventCategory.exhibition: N_("Exhibition"),
    EventCategory.other: N_("Other event"),
}
_DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def category_label(category: str) -> str:
    return _(CATEGORY_LABELS.get(category, category))


def links(code: str) -> LinksRead:
    return LinksRead(
        page=f"/events/{code}", ics=f"/api/v1/events/{code}.ics", api=f"/api/v1/events/{code}"
    )


def venue(row: EventRow, locale: str, distance: float | None = None) -> VenueRead | None:
    if row.place is not None:
        return VenueRead(
            name=pick(row.place.name, locale) or row.place.code,
            place_code=row.place.code,
            lat=row.place.lat,
            lon=row.place.lon,
            distance_m=round(distance, 1) if distance is not None else None,
            url=None if row.place.retired else f"/places/{row.place.code}",
        )
    text = pick(row.event.venue, locale)
    return VenueRead(name=text) if text else None


def price(event: Event, locale: str) -> PriceRead:
    if event.price_vnd is None:
        text = _("Price not known")
    elif event.price_vnd == 0:
        text = _("Free")
    else:
        text = format_money(event.price_vnd, locale)
    return PriceRead(
        vnd=event.price_vnd,
        free=event.price_vnd == 0,
        text=text,
        note=pick(event.price_note, locale),
    )


def occurrence(found: Occurrence, locale: str) -> OccurrenceRead:
    event = found.event
    return OccurrenceRead(
        code=event.code,
        category=EventCategory(event.category),
        category_label=category_label(event.category),
        title=pick(event.title, locale),
        title_lang=language_of(event.title, locale),
        starts_at=found.starts_at,
        ends_at=found.ends_at,
        all_day=event.all_day,
        time_zone=event.time_zone,
        recurring=bool(event.rrule),
        venue=venue(found.row, locale, found.distance_m),
        price=price(event, locale),
        accessibility_notes=pick(event.accessibility_notes, locale),
        links=links(event.code),
    )


def event(row: EventRow, locale: str, now: datetime) -> EventRead:
    item = row.event
    zone = ZoneInfo(item.time_zone)
    return EventRead(
        code=item.code,
        category=EventCategory(item.category),
        category_label=category_label(item.category),
        title=pick(item.title, locale),
        title_lang=language_of(item.title, locale),
        description=pick(item.description, locale),
        starts_at=item.starts_at.astimezone(zone),
        ends_at=item.ends_at.astimezone(zone),
        last_ends_at=item.last_ends_at.astimezone(zone) if item.last_ends_at else None,
        all_day=item.all_day,
        time_zone=item.time_zone,
        rrule=item.rrule,
        recurrence=describe_rule(item, locale),
        next_occurrences=[WhenRead(starts_at=s, ends_at=e) for s, e in next_occurrences(item, now)],
        venue=venue(row, locale),
        price=price(item, locale),
        accessibility_notes=pick(item.accessibility_notes, locale),
        url=item.url,
        department_code=row.department_code,
        texts={
            "title": item.title,
            "description": item.description,
            "venue": item.venue,
            "price_note": item.price_note,
            "accessibility_notes": item.accessibility_notes,
        },
        is_demo=item.is_demo,
        retired_at=item.retired_at,
        created_at=item.created_at,
        updated_at=item.updated_at,
        links=links(item.code),
    )


# In words -----------------------------------------------------------------------------------


def describe_rule(event: Event, locale: str) -> str | None:
    """ "Every week on Sunday, until 27 December 2026": the common rules in words; a rule this
    cannot put in words is "Repeats", and the list of dates says the rest."""
    if not event.rrule:
        return None
    zone = ZoneInfo(event.time_zone)
    parts = recurrence.parts_of(event.rrule)
    every = int(parts.get("INTERVAL", "1") or 1)
    days = [d for d in parts.get("BYDAY", "").split(",") if d]
    simple = set(parts) <= {"FREQ", "INTERVAL", "BYDAY", "UNTIL", "COUNT", "WKST"}
    simple = simple and all(d in _DAY_CODES for d in days)
    freq = parts["FREQ"]
    if not simple or (days and freq != "WEEKLY"):
        text = _("Repeats")
    elif freq == "WEEKLY":
        names = get_day_names("wide", locale=locale)
        wanted = days or [_DAY_CODES[event.starts_at.astimezone(zone).weekday()]]
        listed = ", ".join(names[_DAY_CODES.index(d)] for d in wanted)
        if every == 1:
            text = _("Every week on %(days)s", days=listed)
        else:
            text = _("Every %(num)s weeks on %(days)s", num=every, days=listed)
    elif freq == "DAILY":
        text = _("Every day") if every == 1 else _("Every %(num)s days", num=every)
    elif freq == "MONTHLY":
        text = _("Every month") if every == 1 else _("Every %(num)s months", num=every)
    else:
        text = _("Every year") if every == 1 else _("Every %(num)s years", num=every)
    if event.last_ends_at is not None:
        last = event.last_ends_at.astimezone(zone)
        if event.all_day:
            last -= timedelta(days=1)
        text = _("%(rule)s, until %(date)s", rule=text, date=format_date(last, "long", locale))
    return text


def when_text(starts: datetime, ends: datetime, all_day: bool, locale: str) -> str:
    """The time of an occurrence for people: "19:00 – 21:00", "All day", "20 – 22 Sept 2026"."""
    zone = starts.tzinfo
    if all_day:
        last = (ends - timedelta(days=1)).date()
        if last <= starts.date():
            with use_locale(locale):
                return _("All day")
        return format_interval(starts.date(), last, "yMMMd", locale=locale)
    if starts.date() == ends.date():
        start_text = format_time(starts, "short", tzinfo=zone, locale=locale)
        end_text = format_time(ends, "short", tzinfo=zone, locale=locale)
        return f"{start_text} – {end_text}"

    def moment(value: datetime) -> str:
        day = format_date(value, "medium", locale=locale)
        return f"{day}, {format_time(value, 'short', tzinfo=zone, locale=locale)}"

    return f"{moment(starts)} – {moment(ends)}"


def day_heading(day: date, locale: str) -> str:
    return format_date(day, "full", locale=locale)
