"""The alert pages driven like a browser without JavaScript: plain forms, CSRF, redirects."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from tests.alerts.conftest import AlertWorld, create_alert, deliveries_of, in_hours, send_alert
from tests.alerts.test_size import long_vietnamese
from tests.builders import PASSWORD
from tests.pages import csrf_token, page_login
from tests.reports.test_pages import browser

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local_input(hours: float) -> str:
    return (datetime.now(TZ) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def form(**values: str | list[str]) -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {
        "severity": "emergency",
        "title_vi": "Sạt lở đất tại bản Mồ Dề",
        "body_vi": "Đồi sau bản có vết nứt lớn. Các hộ dưới chân đồi di dời ngay.",
        "title_en": "Landslide risk at Mồ Dề village",
        "body_en": "A large crack has opened on the slope. Households below must leave now.",
        "area": "wards",
        "wards": ["la-pan-tan-t", "che-cu-nha-t"],
        "expires_at": local_input(12),
    }
    data.update(values)
    return data


async def newest_alert(session: AsyncSession) -> Alert:
    row = await session.execute(
        select(Alert).order_by(Alert.id.desc()).limit(1).execution_options(populate_existing=True)
    )
    return row.scalar_one()


async def test_public_list_shows_alerts_in_force_first_and_marks_the_rest(
    client: httpx.AsyncClient, session: AsyncSession, world: AlertWorld
) -> None:
    h = world.manager_headers
    await create_alert(client, h, title_vi="Bản nháp bí mật")
    announcement = await send_alert(client, h, severity="announcement", title_vi="Lịch cắt điện")
    emergency = await send_alert(
        client,
        h,
        severity="emergency",
        title_vi="Lũ quét La Pán Tẩn",
        whole_province=False,
        ward_codes=["la-pan-tan-t"],
    )
    cancelled = await send_alert(client, h, title_vi="Cảnh báo đã hủy")
    await client.post(f"/api/v1/alerts/{cancelled['id']}/cancel", headers=h)

    page = await client.get("/alerts")
    assert page.status_code == 200
    text = page.text
    assert "Bản nháp bí mật" not in text
    active, earlier = text.split('id="earlier-title"')
    # Severity is written out, most urgent first; the cancelled one is below, marked.
    assert active.index("Lũ quét La Pán Tẩn") < active.index("Lịch cắt điện")
    assert "severity-badge severity-emergency" in active and "Cảnh báo đã hủy" not in active
    assert "Cảnh báo đã hủy" in earlier and "alert-state-cancelled" in earlier
    assert "<time datetime=" in text

    for_ward = await client.get("/alerts?ward=hong-ha-t")
    assert "Lịch cắt điện" in for_ward.text and "Lũ quét La Pán Tẩn" not in for_ward.text
    bad = await client.get("/alerts?ward=nowhere")
    assert bad.status_code == 422 and 'href="#filter-ward"' in bad.text

    one = await client.get(f"/alerts/{emergency['id']}")
    assert one.status_code == 200 and "Xã La Pán Tẩn" in one.text
    assert 'lang="en"' in one.text and "Flash flood on the Nậm Kim stream" in one.text
    gone = await client.get(f"/alerts/{cancelled['id']}")
    assert "alert-state-cancelled" in gone.text
    draft = (await client.get("/api/v1/staff/alerts?status=draft", headers=h)).json()["items"][0]
    assert (await client.get(f"/alerts/{draft['id']}")).status_code == 404
    assert announcement["id"]


async def test_composer_is_for_managers_only(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, world: AlertWorld
) -> None:
    anonymous = await client.get("/staff/alerts/new")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    from app.auth.models import Role
    from tests.builders import create_user

    for role in (Role.citizen, Role.staff):
        user = await create_user(session, role=role)
        await session.commit()
        async with browser(app, user) as other:
            assert (await other.get("/staff/alerts")).status_code == 403
            assert (await other.get("/staff/alerts/new")).status_code == 403
            token = await csrf_token(other, "/alerts")
            r = await other.post("/staff/alerts/new", data={**form(), "csrf_token": token})
            assert r.status_code == 403
    assert (await client.get("/api/v1/staff/alerts", headers=world.manager_headers)).json()[
        "total"
    ] == 0


async def test_compose_preview_send_and_cancel_with_plain_forms(
    client: httpx.AsyncClient, session: AsyncSession, world: AlertWorld
) -> None:
    assert (await page_login(client, world.manager.identifier, PASSWORD)).status_code == 303
    blank = await client.get("/staff/alerts/new")
    assert blank.status_code == 200
    assert (
        'type="datetime-local"' in blank.text and "<legend>Thành phố Yên Bái</legend>" in blank.text
    )
    assert 'name="severity" type="radio"' in blank.text
    token = await csrf_token(client, "/staff/alerts/new")

    # Mistakes are shown on the form, which keeps what was typed.
    r = await client.post(
        "/staff/alerts/new",
        data={**form(severity="", wards=[], body_vi=long_vietnamese(1600)), "csrf_token": token},
    )
    assert r.status_code == 422
    assert 'href="#severity-0"' in r.text
    assert "Sạt lở đất tại bản Mồ Dề" in r.text  # kept
    r = await client.post(
        "/staff/alerts/new",
        data={**form(wards=[], body_vi=long_vietnamese(1600)), "csrf_token": token},
    )
    assert r.status_code == 422 and 'href="#wards-0"' in r.text
    r = await client.post(
        "/staff/alerts/new", data={**form(body_vi=long_vietnamese(1600)), "csrf_token": token}
    )
    assert r.status_code == 422 and 'href="#body_vi"' in r.text and "byte" in r.text
    assert (
        'aria-invalid="true"' in r.text
        and 'aria-describedby="body_vi-hint body_vi-error"' in r.text
    )
    assert 'value="la-pan-tan-t" checked' in r.text
    r = await client.post(
        "/staff/alerts/new", data={**form(expires_at="ngày mai"), "csrf_token": token}
    )
    assert r.status_code == 422 and 'href="#expires_at"' in r.text
    assert (await client.get("/api/v1/staff/alerts", headers=world.manager_headers)).json()[
        "total"
    ] == 0

    # Saved: redirected to the preview, exactly as pushed, with sizes and topics.
    r = await client.post("/staff/alerts/new", data={**form(), "csrf_token": token})
    assert r.status_code == 303, r.text
    alert = await newest_alert(session)
    assert r.headers["location"] == f"/staff/alerts/{alert.id}?done=created"
    assert alert.status == "draft" and not alert.whole_province
    expected = datetime.fromisoformat(form()["expires_at"]).replace(tzinfo=TZ)  # type: ignore[arg-type]
    assert abs(alert.expires_at - expected) < timedelta(minutes=2)
    page = await client.get(r.headers["location"])
    assert "KHẨN CẤP: Sạt lở đất tại bản Mồ Dề" in page.text
    assert "EMERGENCY: Landslide risk at Mồ Dề village" in page.text
    assert "alerts-w-la-pan-tan-t-vi" in page.text and "2.048" in page.text
    assert 'role="status"' in page.text
    assert f'href="/staff/alerts/{alert.id}/send"' in page.text

    # Edit while a draft.
    edit = await client.get(f"/staff/alerts/{alert.id}/edit")
    assert 'value="Sạt lở đất tại bản Mồ Dề"' in edit.text
    r = await client.post(
        f"/staff/alerts/{alert.id}/edit",
        data={**form(title_vi="Sạt lở đất ở bản Mồ Dề"), "csrf_token": token},
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?done=saved")

    # The confirmation step, then the send.
    confirm = await client.get(f"/staff/alerts/{alert.id}/send")
    assert confirm.status_code == 200 and f'action="/staff/alerts/{alert.id}/send"' in confirm.text
    assert await deliveries_of(session, alert.id) == []  # showing it sends nothing
    r = await client.post(f"/staff/alerts/{alert.id}/send", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=sent")
    assert len(await deliveries_of(session, alert.id)) == 4
    again = await client.post(f"/staff/alerts/{alert.id}/send", data={"csrf_token": token})
    assert again.status_code == 409 and "error-summary" in again.text
    assert len(await deliveries_of(session, alert.id)) == 4
    assert (await client.get(f"/staff/alerts/{alert.id}/edit")).status_code == 409
    sent_page = await client.get(f"/staff/alerts/{alert.id}")
    assert "Lê Thu Hà" in sent_page.text and "alerts-w-che-cu-nha-t-en" in sent_page.text

    # Cancelling asks first too.
    confirm = await client.get(f"/staff/alerts/{alert.id}/cancel")
    assert f'action="/staff/alerts/{alert.id}/cancel"' in confirm.text
    r = await client.post(f"/staff/alerts/{alert.id}/cancel", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=cancelled")
    public = await client.get(f"/alerts/{alert.id}")
    assert "alert-state-cancelled" in public.text
    listing = await client.get("/staff/alerts")
    assert f'href="/staff/alerts/{alert.id}"' in listing.text


async def test_forms_need_the_csrf_token(
    client: httpx.AsyncClient, session: AsyncSession, world: AlertWorld
) -> None:
    assert (await page_login(client, world.manager.identifier, PASSWORD)).status_code == 303
    draft = await create_alert(client, world.manager_headers, expires_at=in_hours(5))
    r = await client.post(f"/staff/alerts/{draft['id']}/send", data={})
    assert r.status_code == 403
    assert await deliveries_of(session, draft["id"]) == []
