"""The notification settings page driven like a browser without JavaScript: plain forms, CSRF
tokens, POST then redirect; what is saved is checked through the JSON API and the service."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.preferences import service
from app.preferences.models import NotificationPreference, ReportSubscription
from tests.builders import PASSWORD, bearer, create_user, create_ward, login
from tests.pages import csrf_token, page_login

PAGE = "/account/notifications"
RING_A = [[104.86, 21.69], [104.88, 21.69], [104.88, 21.71], [104.86, 21.71], [104.86, 21.69]]
RING_B = [[104.88, 21.69], [104.90, 21.69], [104.90, 21.71], [104.88, 21.71], [104.88, 21.69]]


@dataclass
class Resident:
    user: User
    headers: dict[str, str]


@pytest.fixture
async def resident(client: httpx.AsyncClient, session: AsyncSession) -> Resident:
    await create_ward(session, "hong-ha-t", RING_A, "Phường Hồng Hà")
    await create_ward(session, "yen-ninh-t", RING_B, "Phường Yên Ninh")
    user = await create_user(session)
    await session.commit()
    headers = bearer(await login(client, user.identifier))
    client.headers["Accept-Language"] = "en"
    assert (await page_login(client, user.identifier, PASSWORD)).status_code == 303
    return Resident(user, headers)


def settings_form(**values: Any) -> dict[str, Any]:
    """What the form sends when everything is left as it is by default, changed by `values`."""
    data: dict[str, Any] = {
        "locale": "vi",
        "report_updates": "1",
        "area_reports": "1",
        "quiet_start": "22:00",
        "quiet_end": "06:00",
    }
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


async def post(client: httpx.AsyncClient, action: str, data: dict[str, Any]) -> httpx.Response:
    return await client.post(action, data={**data, "csrf_token": await csrf_token(client, PAGE)})


async def api_prefs(client: httpx.AsyncClient, resident: Resident) -> dict[str, Any]:
    r = await client.get("/api/v1/me/preferences", headers=resident.headers)
    assert r.status_code == 200, r.text
    return r.json()


def error_summary(html: str) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert match, "no error summary"
    return match.group(0)


async def test_anonymous_is_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    r = await client.get(PAGE)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/account/notifications"


async def test_the_form_shows_the_defaults_in_fieldsets(
    client: httpx.AsyncClient, resident: Resident
) -> None:
    r = await client.get(PAGE)
    assert r.status_code == 200
    html = r.text
    assert html.count("<h1") == 1 and html.count("<legend>") >= 5
    assert 'id="locale-vi" name="locale" type="radio" value="vi" checked' in html
    assert 'id="report_updates" name="report_updates" type="checkbox" value="1" checked' in html
    assert 'id="quiet-on" name="quiet_hours" type="checkbox" value="1">' in html  # off
    assert 'id="quiet-start" name="quiet_start" type="time" value="22:00"' in html
    assert "Emergency alerts ignore quiet hours" in html
    assert "Alerts for the whole province always reach you" in html
    assert "<legend>Thành phố Yên Bái</legend>" in html
    assert 'name="alert_wards" type="checkbox" value="hong-ha-t"' in html
    assert "You do not follow any area yet." in html
    assert '<option value="">The whole province</option>' in html
    assert '<option value="">All kinds of report</option>' in html
    assert html.count('name="csrf_token"') >= 3  # settings, follow, sign out


async def test_saving_every_setting_persists_and_redirects(
    client: httpx.AsyncClient, session: AsyncSession, resident: Resident
) -> None:
    r = await post(
        client,
        PAGE,
        settings_form(
            locale="en",
            report_updates=None,
            quiet_hours="1",
            quiet_start="21:30",
            quiet_end="05:45",
            alert_wards=["yen-ninh-t", "hong-ha-t"],
        ),
    )
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?done=saved"
    saved = await api_prefs(client, resident)
    assert saved["locale"] == "en"
    assert saved["report_updates"] is False and saved["area_reports"] is True
    assert saved["quiet_hours"] == {"start": "21:30:00", "end": "05:45:00"}
    assert saved["alert_wards"] == ["hong-ha-t", "yen-ninh-t"]

    page = await client.get(r.headers["location"])
    assert '<p class="notice" role="status">Your notification settings are saved.</p>' in page.text
    assert 'value="en" checked' in page.text
    assert 'name="quiet_hours" type="checkbox" value="1" checked' in page.text
    assert 'value="21:30"' in page.text and 'value="05:45"' in page.text
    assert 'value="yen-ninh-t" checked' in page.text

    # Turning things off again: quiet hours off, no wards, both pushes off.
    r = await post(client, PAGE, settings_form(locale="vi", report_updates=None, area_reports=None))
    assert r.status_code == 303
    await session.refresh(resident.user)
    stored = await service.read(session, resident.user)
    assert stored.locale == "vi" and stored.quiet_hours is None and stored.alert_wards == []
    assert stored.report_updates is False and stored.area_reports is False


@pytest.mark.parametrize(
    ("values", "target", "message"),
    [
        (
            {"quiet_start": "22:00", "quiet_end": "22:00"},
            "quiet-end",
            "Quiet hours: the end must be a different time from the start.",
        ),
        ({"quiet_end": ""}, "quiet-end", "Quiet hours: give the time they end."),
        ({"quiet_start": ""}, "quiet-start", "Quiet hours: give the time they start."),
        (
            {"quiet_start": "late"},
            "quiet-start",
            "Quiet hours: enter the start as hours and minutes, such as 22:00.",
        ),
    ],
)
async def test_wrong_quiet_hours_are_explained_and_nothing_is_stored(
    client: httpx.AsyncClient,
    session: AsyncSession,
    resident: Resident,
    values: dict[str, str],
    target: str,
    message: str,
) -> None:
    r = await post(
        client,
        PAGE,
        settings_form(locale="en", area_reports=None, quiet_hours="1", **values),
    )
    assert r.status_code == 422
    summary = error_summary(r.text)
    assert 'role="alert"' in summary and f'<a href="#{target}">{message}</a>' in summary
    assert f'id="{target}-error"' in r.text
    assert re.search(rf'id="{target}"[^>]*aria-describedby="[^"]*{target}-error"', r.text)
    assert re.search(rf'id="{target}"[^>]*aria-invalid="true"', r.text)
    # What was typed is still there, and nothing changed.
    assert 'value="en" checked' in r.text
    assert 'id="area_reports" name="area_reports" type="checkbox" value="1">' in r.text
    assert 'name="quiet_hours" type="checkbox" value="1" checked' in r.text
    for name in ("quiet_start", "quiet_end"):
        if name in values:
            assert f'name="{name}" type="time" value="{values[name]}"' in r.text
    saved = await api_prefs(client, resident)
    assert saved["locale"] == "vi" and saved["area_reports"] is True
    assert saved["quiet_hours"] is None
    rows = await session.scalar(select(func.count()).select_from(NotificationPreference))
    assert rows == 0


async def test_an_unknown_ward_is_explained_and_nothing_is_stored(
    client: httpx.AsyncClient, session: AsyncSession, resident: Resident
) -> None:
    r = await post(
        client,
        PAGE,
        settings_form(
            locale="en",
            quiet_hours="1",
            quiet_start="23:00",
            alert_wards=["hong-ha-t", "atlantis"],
        ),
    )
    assert r.status_code == 422
    summary = error_summary(r.text)
    assert (
        '<a href="#alert-ward-0">Emergency alerts: There is no such ward or commune.</a>' in summary
    )
    assert re.search(r'id="alert-ward-0"[^>]*aria-invalid="true"', r.text)
    assert 'value="hong-ha-t" checked' in r.text and 'value="23:00"' in r.text
    saved = await api_prefs(client, resident)
    assert saved["locale"] == "vi" and saved["alert_wards"] == [] and saved["quiet_hours"] is None
    await session.refresh(resident.user)
    assert resident.user.locale == "vi"


async def test_too_many_wards_and_a_made_up_language_are_refused(
    client: httpx.AsyncClient, resident: Resident
) -> None:
    r = await post(
        client, PAGE, settings_form(locale="fr", alert_wards=[f"w{i}" for i in range(51)])
    )
    assert r.status_code == 422
    summary = error_summary(r.text)
    assert '<a href="#locale-vi">Choose the language of your notifications.</a>' in summary
    assert "choose at most 50 wards and communes" in summary
    assert (await api_prefs(client, resident))["locale"] == "vi"


async def test_settings_need_the_csrf_token(client: httpx.AsyncClient, resident: Resident) -> None:
    r = await client.post(PAGE, data=settings_form(locale="en"))
    assert r.status_code == 403
    assert (await api_prefs(client, resident))["locale"] == "vi"


async def test_following_and_unfollowing_areas(
    client: httpx.AsyncClient, session: AsyncSession, resident: Resident
) -> None:
    action = f"{PAGE}/subscriptions"
    r = await post(client, action, {"ward_code": "hong-ha-t", "service_group": "roads_lighting"})
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?done=followed"
    r = await post(client, action, {"ward_code": "", "service_group": ""})
    assert r.status_code == 303
    subs = (await api_prefs(client, resident))["subscriptions"]
    assert [(s["ward_code"], s["service_group"]) for s in subs] == [
        ("hong-ha-t", "roads_lighting"),
        (None, None),
    ]
    page = await client.get(f"{PAGE}?done=followed")
    assert 'role="status">You now follow new reports in that area.' in page.text
    assert "Phường Hồng Hà: Roads and street lights" in page.text
    assert "The whole province: All kinds of report" in page.text
    assert f'action="{PAGE}/subscriptions/{subs[0]["id"]}/delete"' in page.text

    # The same again: a readable refusal, the choice kept, nothing added.
    again = await post(
        client, action, {"ward_code": "hong-ha-t", "service_group": "roads_lighting"}
    )
    assert again.status_code == 409
    assert '<a href="#sub-ward">You already follow these reports.</a>' in error_summary(again.text)
    assert '<option value="hong-ha-t" selected>' in again.text
    assert '<option value="roads_lighting" selected>' in again.text
    # A ward or a kind that does not exist.
    unknown = await post(client, action, {"ward_code": "atlantis", "service_group": ""})
    assert unknown.status_code == 422
    assert 'href="#sub-ward">Ward or commune: There is no such ward or commune.' in unknown.text
    bad_kind = await post(client, action, {"ward_code": "", "service_group": "dragons"})
    assert bad_kind.status_code == 422
    assert 'href="#sub-group">' in bad_kind.text
    assert re.search(r'id="sub-group"[^>]*aria-invalid="true"', bad_kind.text)
    assert len((await api_prefs(client, resident))["subscriptions"]) == 2

    r = await post(client, f"{PAGE}/subscriptions/{subs[0]['id']}/delete", {})
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?done=unfollowed"
    left = (await api_prefs(client, resident))["subscriptions"]
    assert [s["id"] for s in left] == [subs[1]["id"]]
    # Gone already, or someone else's: nothing happens, and the page says so.
    gone = await post(client, f"{PAGE}/subscriptions/{subs[0]['id']}/delete", {})
    assert gone.status_code == 404
    assert "There is no such subscription." in error_summary(gone.text)


async def test_nobody_removes_anothers_subscription(
    client: httpx.AsyncClient, session: AsyncSession, resident: Resident
) -> None:
    other = await create_user(session)
    theirs = ReportSubscription(user_id=other.id, ward_id=None, service_group=None)
    session.add(theirs)
    await session.commit()
    r = await post(client, f"{PAGE}/subscriptions/{theirs.id}/delete", {})
    assert r.status_code == 404
    still = await session.scalar(select(func.count()).where(ReportSubscription.user_id == other.id))
    assert still == 1


async def test_quiet_hours_are_shown_as_stored(
    client: httpx.AsyncClient, session: AsyncSession, resident: Resident
) -> None:
    session.add(
        NotificationPreference(
            user_id=resident.user.id, quiet_start=time(23, 15), quiet_end=time(6, 30)
        )
    )
    await session.commit()
    html = (await client.get(PAGE)).text
    assert 'name="quiet_hours" type="checkbox" value="1" checked' in html
    assert 'value="23:15"' in html and 'value="06:30"' in html
