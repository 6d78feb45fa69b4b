"""RRULE values: what is accepted, how it is tidied, and how UNTIL is made unambiguous."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.events import recurrence
from app.events.recurrence import Schedule

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("given", "tidy"),
    [
        ("FREQ=WEEKLY;BYDAY=SU", "FREQ=WEEKLY;BYDAY=SU"),
        ("RRULE:byday=sa;freq=weekly", "FREQ=WEEKLY;BYDAY=SA"),
        (" FREQ=MONTHLY;BYDAY=2SA;INTERVAL=1 ", "FREQ=MONTHLY;INTERVAL=1;BYDAY=2SA"),
        ("FREQ=YEARLY;UNTIL=20351231", "FREQ=YEARLY;UNTIL=20351231"),
    ],
)
def test_rules_are_tidied(given: str, tidy: str) -> None:
    assert recurrence.check_syntax(given) == tidy


@pytest.mark.parametrize(
    "given",
    [
        "",
        "BYDAY=SU",
        "FREQ=MINUTELY",
        "FREQ=WEEKLY;FREQ=DAILY",
        "FREQ=WEEKLY;BYDAY=FUNDAY",
        "FREQ=WEEKLY;COUNT=0",
        "FREQ=WEEKLY;COUNT=5000",
        "FREQ=WEEKLY;UNTIL=next year",
        "FREQ=WEEKLY;COLOUR=RED",
        "DTSTART:20300901T060000\nRRULE:FREQ=WEEKLY",
    ],
)
def test_rules_that_are_refused(given: str) -> None:
    with pytest.raises(recurrence.InvalidRule):
        recurrence.check_syntax(given)


def test_until_becomes_utc_for_a_timed_start_and_a_date_for_an_all_day_one() -> None:
    assert (
        recurrence.with_utc_until("FREQ=DAILY;UNTIL=20300930", TZ)
        == "FREQ=DAILY;UNTIL=20300930T165959Z"
    )
    assert (
        recurrence.with_utc_until("FREQ=DAILY;UNTIL=20300930T200000", TZ)
        == "FREQ=DAILY;UNTIL=20300930T130000Z"
    )
    assert recurrence.with_utc_until("FREQ=DAILY", TZ) == "FREQ=DAILY"
    assert (
        recurrence.with_date_until("FREQ=DAILY;UNTIL=20300930T165959Z", TZ)
        == "FREQ=DAILY;UNTIL=20300930"
    )


def test_an_occurrence_under_way_counts_and_one_ending_at_the_start_does_not() -> None:
    start = datetime(2030, 9, 1, 6, 0, tzinfo=TZ)
    schedule = Schedule(start, start.replace(hour=11), TZ, "FREQ=WEEKLY;BYDAY=SU")
    at_ten = datetime(2030, 9, 8, 3, 0, tzinfo=UTC)  # 10:00 local, the market is on
    assert [s.day for s, _e in schedule.between(at_ten, at_ten.replace(day=9))] == [8]
    at_eleven = datetime(2030, 9, 8, 4, 0, tzinfo=UTC)
    assert list(schedule.between(at_eleven, at_eleven.replace(day=9))) == []
    assert schedule.last_end() is None
    assert [s.day for s, _e in schedule.next(at_ten, 3)] == [8, 15, 22]


def test_the_last_end_of_a_counted_rule() -> None:
    start = datetime(2030, 1, 31, 19, 0, tzinfo=TZ)
    schedule = Schedule(start, start.replace(hour=21), TZ, "FREQ=MONTHLY;COUNT=3")
    # Months without a 31st are skipped, as RFC 5545 says.
    assert [s.month for s, _ in schedule.between(start, datetime(2031, 1, 1, tzinfo=TZ))] == [
        1,
        3,
        5,
    ]
    assert schedule.last_end() == datetime(2030, 5, 31, 21, 0, tzinfo=TZ)
