"""Events in words: the rule, and the time of an occurrence."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from app.events.views import describe_rule, when_text
from app.kit.i18n import use_locale

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def event(rule: str | None, last: datetime | None = None, all_day: bool = False) -> SimpleNamespace:
    return SimpleNamespace(
        rrule=rule,
        time_zone="Asia/Ho_Chi_Minh",
        starts_at=datetime(2030, 9, 7, 13, 0, tzinfo=UTC),  # Saturday 20:00 local
        last_ends_at=last,
        all_day=all_day,
    )


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (None, None),
        ("FREQ=WEEKLY;BYDAY=SU", "Every week on Sunday"),
        ("FREQ=WEEKLY", "Every week on Saturday"),  # the day of the start
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=SA,SU", "Every 2 weeks on Saturday, Sunday"),
        ("FREQ=DAILY", "Every day"),
        ("FREQ=MONTHLY;INTERVAL=3", "Every 3 months"),
        ("FREQ=YEARLY", "Every year"),
        ("FREQ=MONTHLY;BYDAY=1SA", "Repeats"),  # the list of dates says which
    ],
)
def test_rules_in_words(rule: str | None, words: str | None) -> None:
    with use_locale("en"):
        assert describe_rule(event(rule), "en") == words


def test_a_rule_with_an_end_says_until_when() -> None:
    last = datetime(2030, 10, 5, 14, 30, tzinfo=UTC)
    with use_locale("en"):
        assert describe_rule(event("FREQ=WEEKLY;COUNT=5", last), "en") == (
            "Every week on Saturday, until October 5, 2030"
        )
        # An all-day event ends at the midnight after its last day.
        midnight = datetime(2030, 10, 5, 17, 0, tzinfo=UTC)
        assert describe_rule(event("FREQ=WEEKLY;COUNT=5", midnight, True), "en").endswith(
            "until October 5, 2030"
        )


def test_times_of_an_occurrence() -> None:
    start = datetime(2030, 9, 20, 19, 0, tzinfo=TZ)
    assert when_text(start, start.replace(hour=21), False, "vi") == "19:00 – 21:00"
    days = when_text(start.replace(hour=0), datetime(2030, 9, 23, tzinfo=TZ), True, "en")
    assert days.replace("\u2009", " ") == "Sep 20 – 22, 2030"
    assert (
        when_text(start.replace(hour=0), datetime(2030, 9, 21, tzinfo=TZ), True, "en") == "All day"
    )
    overnight = when_text(start, datetime(2030, 9, 21, 2, 0, tzinfo=TZ), False, "vi")
    assert overnight == "20 thg 9, 2030, 19:00 – 21 thg 9, 2030, 02:00"
