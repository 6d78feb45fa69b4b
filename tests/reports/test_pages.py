"""The report pages driven like a browser without JavaScript: plain forms, CSRF tokens, cookies."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.config import Settings
from app.reports.models import Report, ReportFollower, ReportPhoto
from app.reports.pages import Question, ReportForm, parse_report
from tests.builders import PASSWORD
from tests.pages import csrf_token, page_login
from tests.reports.conftest import World, submit

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_CODE = re.compile(r'<code class="big-code">([^<]+)</code>')


def jpeg() -> bytes:
    image = Image.new("RGB", (640, 480), (40, 120, 200))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@asynccontextmanager
async def browser(app: FastAPI, user: User | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """Another person's browser: its own cookies, signed in through the login page if asked."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 41000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as other:
        if user is not None:
            assert (await page_login(other, user.identifier, PASSWORD)).status_code == 303
        yield other


def hidden_fields(html: str) -> dict[str, str]:
    return dict(_HIDDEN.findall(html))


async def report_form(client: httpx.AsyncClient, service: str = "street_light") -> dict[str, str]:
    page = await client.get(f"/reports/new?service={service}")
    assert page.status_code == 200, page.text
    fields = hidden_fields(page.text)
    assert fields["idempotency_key"] and fields["csrf_token"]
    return fields


async def send(
    client: httpx.AsyncClient,
    fields: dict[str, str],
    photos: list[bytes] | None = None,
    **values: Any,
) -> httpx.Response:
    data = {
        **fields,
        "description": "Đèn đường trước số 12 bị tắt từ tối qua",
        "address": "Trước số 12 đường Nguyễn Thái Học",
        "attr_pole_state": "off",
        **values,
    }
    files = [("photos", (f"IMG_{i}.jpg", p, "image/jpeg")) for i, p in enumerate(photos or [])]
    if not files:  # a browser sends the empty file field as multipart too
        files = [("photos", ("", b"", "application/octet-stream"))]
    return await client.post("/reports/new", data=data, files=files)


async def count_reports(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Report)) or 0)


async def by_code(session: AsyncSession, code: str) -> Report:
    stmt = select(Report).where(Report.code == code).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one()


# Sending ----------------------------------------------------------------------------------


async def test_plain_form_with_a_photo_gives_the_code_and_the_secret(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    chooser = await client.get("/reports/new")
    assert chooser.status_code == 200
    assert 'type="radio" value="street_light"' in chooser.text and "<fieldset>" in chooser.text
    assert "ch_device" in client.cookies  # set on the first visit, for anonymous "me too"

    form = await client.get("/reports/new?service=street_light")
    assert 'enctype="multipart/form-data"' in form.text
    assert (
        'name="photos" type="file" multiple accept="image/jpeg,image/png,image/webp"' in form.text
    )
    assert 'id="attr_pole_state-0" name="attr_pole_state" type="radio"' in form.text
    assert 'inputmode="decimal"' in form.text and '<select id="ward_code"' in form.text

    sent = await send(client, hidden_fields(form.text), [jpeg()], ward_code="ward-a")
    assert sent.status_code == 200, sent.text
    code, secret = _CODE.findall(sent.text)
    assert "Keep this to follow your report" in sent.text or "big-code" in sent.text
    assert f'href="/reports/{code}"' in sent.text
    report = await by_code(session, code)
    assert report.ward_id == world.ward_a.id and report.reporter_id is None
    assert report.device_id == client.cookies["ch_device"]
    photos = (
        (await session.execute(select(ReportPhoto).where(ReportPhoto.report_id == report.id)))
        .scalars()
        .all()
    )
    assert [p.kind for p in photos] == ["submission"]
    # This browser keeps the secret for that report: the owner's actions show on its page.
    page = await client.get(f"/reports/{code}")
    assert f'action="/reports/{code}/withdraw"' in page.text
    assert secret not in page.text
    assert f'src="/media/photos/{photos[0].thumb_name}"' in page.text and 'alt="' in page.text


async def test_near_duplicates_are_offered_first_and_me_too_works(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    existing = (await submit(client, world.citizen_headers)).json()["code"]  # at 21.70, 104.87
    before = await count_reports(session)
    fields = await report_form(client)
    step = await send(client, fields, [jpeg()], lat="21,70002", lon="104.87001")
    assert step.status_code == 200
    assert f'action="/reports/{existing}/support"' in step.text
    assert 'name="confirmed" value="1"' in step.text
    assert await count_reports(session) == before  # nothing sent yet

    support = await client.post(
        f"/reports/{existing}/support", data={"csrf_token": fields["csrf_token"]}
    )
    assert support.status_code == 303
    assert support.headers["location"] == f"/reports/{existing}?done=supported"
    assert (await by_code(session, existing)).support_count == 1
    again = await client.post(
        f"/reports/{existing}/support", data={"csrf_token": fields["csrf_token"]}
    )
    assert again.status_code == 303 and (await by_code(session, existing)).support_count == 1
    thanked = await client.get(again.headers["location"])
    assert 'role="status"' in thanked.text

    # "No, mine is different — send it": the second POST carries everything, plus confirmed=1.
    carried = hidden_fields(step.text)
    assert carried["lat"] == "21,70002" and carried["attr_pole_state"] == "off"
    second = await client.post(
        "/reports/new",
        data=carried,
        files=[("photos", ("again.jpg", jpeg(), "image/jpeg"))],
    )
    assert second.status_code == 200 and len(_CODE.findall(second.text)) == 2
    assert await count_reports(session) == before + 1


async def test_a_resubmitted_form_creates_nothing_new(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    fields = await report_form(client)
    before = await count_reports(session)
    first = await send(client, fields)
    again = await send(client, fields)  # a double click, or the browser resending the POST
    assert first.status_code == again.status_code == 200
    assert _CODE.findall(first.text) == _CODE.findall(again.text)
    assert await count_reports(session) == before + 1
    # The same key with other details is refused, and the form comes back with a new key.
    changed = await send(client, fields, description="Một nội dung khác hẳn")
    assert changed.status_code == 409 and 'role="alert"' in changed.text
    assert hidden_fields(changed.text)["idempotency_key"] != fields["idempotency_key"]
    assert await count_reports(session) == before + 1


async def test_validation_errors_keep_the_input_and_name_the_field(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    fields = await report_form(client)
    before = await count_reports(session)
    bad = await send(
        client,
        fields,
        description="ab",
        address="Cổng chợ Đồng Tâm",
        lat="bắc",
        attr_pole_state="",
        reporter_email="not-an-address",
    )
    assert bad.status_code == 422
    html = bad.text
    assert 'role="alert"' in html and html.count("<h1") == 1
    assert 'value="Cổng chợ Đồng Tâm"' in html  # kept
    assert '<a href="#lat">' in html and 'id="lat-error"' in html and 'aria-invalid="true"' in html
    assert "Latitude" in html or "Vĩ độ" in html
    # Then the service's rules: the required question, named by its label.
    fixed = await send(client, hidden_fields(html), attr_pole_state="", description="Đèn tắt")
    assert fixed.status_code == 422
    assert '<a href="#attr_pole_state-0">' in fixed.text and "Tình trạng" in fixed.text
    assert "Đèn tắt" in fixed.text
    assert await count_reports(session) == before


def test_answers_are_read_by_their_datatype_in_the_provinces_time() -> None:
    questions = [
        Question("seen_at", "datetime", "Lúc", "", True, "attr_seen_at", "attr_seen_at", []),
        Question("depth", "number", "Sâu", "", False, "attr_depth", "attr_depth", []),
        Question(
            "kinds",
            "multivaluelist",
            "Loại",
            "",
            False,
            "attr_kinds",
            "attr_kinds-0",
            [("a", "A"), ("b", "B")],
        ),
    ]
    form = ReportForm(
        values={
            "description": "Nước ngập sâu",
            "attr_seen_at": "2026-03-01T14:30",
            "attr_depth": "12,5",
            "lat": "21,7",
            "lon": "104.87",
        },
        lists={"attr_kinds": ["a", "b"]},
        uploads=[],
    )
    data, errors = parse_report(form, "flood", questions, False, "Asia/Ho_Chi_Minh")
    assert not errors and data is not None
    assert data.attributes == {
        "seen_at": "2026-03-01T14:30:00+07:00",
        "depth": 12.5,
        "kinds": ["a", "b"],
    }
    assert (data.lat, data.lon) == (21.7, 104.87)
    only_lat = ReportForm(values={"description": "Nước ngập", "lat": "21.7"}, lists={}, uploads=[])
    data, errors = parse_report(only_lat, "flood", [], True, "Asia/Ho_Chi_Minh")
    assert data is None and [e.target for e in errors] == ["lat"]


async def test_a_service_for_signed_in_residents_asks_to_sign_in(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    world.private.allow_anonymous = False
    await session.commit()
    page = await client.get("/reports/new?service=clinic_feedback")
    assert page.status_code == 200 and "/login?next=" in page.text
    assert 'action="/reports/new"' not in page.text


# Tracking and the owner's actions ---------------------------------------------------------


async def test_tracking_by_code_and_secret_then_withdrawing(
    client: httpx.AsyncClient, session: AsyncSession, world: World, app: FastAPI
) -> None:
    body = (await submit(client)).json()
    async with browser(app) as other:
        token = await csrf_token(other, "/reports/track")
        wrong = await other.post(
            "/reports/track",
            data={"csrf_token": token, "code": body["code"], "secret": "not-the-secret"},
        )
        assert wrong.status_code == 404 and 'role="alert"' in wrong.text
        assert f'value="{body["code"]}"' in wrong.text  # the code is kept, the secret is not
        page = await other.get(f"/reports/{body['code']}")
        assert "/withdraw" not in page.text
        found = await other.post(
            "/reports/track",
            data={
                "csrf_token": token,
                "code": body["code"].replace("-", "").lower(),
                "secret": body["secret"],
            },
        )
        assert found.status_code == 303
        assert found.headers["location"] == f"/reports/{body['code']}?done=found"
        cookie = next(c for c in found.headers.get_list("set-cookie") if c.startswith("ch_report_"))
        assert "HttpOnly" in cookie and f"Path=/reports/{body['code']}" in cookie
        page = await other.get(found.headers["location"])
        assert f'action="/reports/{body["code"]}/withdraw"' in page.text
        assert "Đèn đường trước số 12 bị tắt" in page.text  # the owner edits their own words
        edited = await other.post(
            f"/reports/{body['code']}/edit",
            data={"csrf_token": token, "description": "Đèn tắt hẳn", "address": "Số 12"},
        )
        assert edited.status_code == 303
        done = await other.post(f"/reports/{body['code']}/withdraw", data={"csrf_token": token})
        assert done.status_code == 303
    report = await by_code(session, body["code"])
    assert report.status == "withdrawn" and report.description == "Đèn tắt hẳn"


async def test_looking_up_is_throttled_like_the_api(
    client: httpx.AsyncClient, settings: Settings, world: World
) -> None:
    settings.report_lookups_per_minute = 2
    token = await csrf_token(client, "/reports/track")
    answers = [
        await client.post(
            "/reports/track",
            data={"csrf_token": token, "code": "ABCD-2345", "secret": "guessing-1234"},
        )
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [404, 404, 429]
    assert "Retry-After" in answers[-1].headers and 'role="alert"' in answers[-1].text


async def _resolved(client: httpx.AsyncClient, world: World) -> str:
    code = (await submit(client, world.citizen_headers)).json()["code"]
    r = await client.post(
        f"/api/v1/staff/reports/{code}/status",
        headers=world.staff_headers,
        json={"status": "resolved", "note": "Đã thay bóng đèn mới", "public": True},
    )
    assert r.status_code == 200, r.text
    return code


async def test_the_owner_rates_and_disputes_a_resolved_report(
    client: httpx.AsyncClient, session: AsyncSession, world: World, app: FastAPI
) -> None:
    code = await _resolved(client, world)
    async with browser(app, world.citizen) as mine:
        page = await mine.get(f"/reports/{code}")
        for action in ("confirm", "dispute", "rating"):
            assert f'action="/reports/{code}/{action}"' in page.text
        assert 'name="rating" type="radio" value="5"' in page.text
        assert '<ol class="timeline">' in page.text and "Đã thay bóng đèn mới" in page.text
        token = hidden_fields(page.text)["csrf_token"]

        no_rating = await mine.post(f"/reports/{code}/rating", data={"csrf_token": token})
        assert no_rating.status_code == 422 and '<a href="#rating-1">' in no_rating.text
        rated = await mine.post(
            f"/reports/{code}/rating",
            data={"csrf_token": token, "rating": "4", "comment": "Nhanh"},
        )
        assert rated.status_code == 303

        short = await mine.post(
            f"/reports/{code}/dispute", data={"csrf_token": token, "reason": "x"}
        )
        assert short.status_code == 422 and 'id="dispute-reason-error"' in short.text
        followed = await mine.post(f"/reports/{code}/unfollow", data={"csrf_token": token})
        assert followed.headers["location"] == f"/reports/{code}?done=unfollowed"
        page = await mine.get(followed.headers["location"])
        assert f'action="/reports/{code}/follow"' in page.text
        disputed = await mine.post(
            f"/reports/{code}/dispute",
            data={"csrf_token": token, "reason": "Đèn lại tắt sau hai hôm"},
            files={"photo": ("dark.jpg", jpeg(), "image/jpeg")},
        )
        assert disputed.status_code == 303
        page = await mine.get(disputed.headers["location"])
        assert 'role="status"' in page.text and "Đèn lại tắt sau hai hôm" in page.text
    report = await by_code(session, code)
    assert report.status == "reopened" and report.rating == 4
    following = await session.scalar(
        select(func.count()).where(
            ReportFollower.report_id == report.id, ReportFollower.user_id == world.citizen.id
        )
    )
    assert following == 0
    kinds = (
        await session.execute(select(ReportPhoto.kind).where(ReportPhoto.report_id == report.id))
    ).scalars()
    assert list(kinds) == ["dispute"]


async def test_the_owner_confirms_the_fix(
    client: httpx.AsyncClient, session: AsyncSession, world: World, app: FastAPI
) -> None:
    code = await _resolved(client, world)
    async with browser(app, world.citizen) as mine:
        token = hidden_fields((await mine.get(f"/reports/{code}")).text)["csrf_token"]
        done = await mine.post(f"/reports/{code}/confirm", data={"csrf_token": token})
        assert done.status_code == 303
        again = await mine.post(f"/reports/{code}/confirm", data={"csrf_token": token})
        assert again.status_code == 409 and 'role="alert"' in again.text
    assert (await by_code(session, code)).status == "closed"


async def test_nobody_acts_as_the_owner_of_another_persons_report(
    client: httpx.AsyncClient, session: AsyncSession, world: World, app: FastAPI
) -> None:
    code = (await submit(client)).json()["code"]  # anonymous
    async with browser(app, world.citizen) as someone:
        page = await someone.get(f"/reports/{code}")
        assert page.status_code == 200 and "/withdraw" not in page.text
        token = hidden_fields(page.text)["csrf_token"]
        follow = await someone.post(f"/reports/{code}/follow", data={"csrf_token": token})
        assert follow.status_code == 303  # anyone signed in may follow
        refused = await someone.post(f"/reports/{code}/withdraw", data={"csrf_token": token})
        assert refused.status_code == 403 and "<h1>" in refused.text
        rated = await someone.post(
            f"/reports/{code}/rating", data={"csrf_token": token, "rating": "1"}
        )
        assert rated.status_code == 403
        missing = await someone.get("/reports/ZZZZ-ZZZZ")  # an error page for a signed-in user
        assert missing.status_code == 404 and missing.text.count("<h1") == 1
    assert (await by_code(session, code)).status == "submitted"


async def test_my_reports_lists_what_i_sent(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    code = (await submit(client, world.citizen_headers)).json()["code"]
    other = (await submit(client)).json()["code"]
    async with browser(app, world.citizen) as mine:
        page = await mine.get("/account/reports")
        assert page.status_code == 200
        assert f'href="/reports/{code}"' in page.text and other not in page.text
    anonymous = await client.get("/account/reports")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


async def test_the_public_list_filters_and_masks(client: httpx.AsyncClient, world: World) -> None:
    open_one = (await submit(client, description="Gọi tôi 0912 345 678, đèn tắt cả tuần")).json()[
        "code"
    ]
    routed = (await submit(client, lat=21.70, lon=104.89)).json()["code"]  # ward B
    page = await client.get("/reports")
    assert page.status_code == 200 and open_one in page.text and routed in page.text
    assert "0912 345 678" not in page.text
    filtered = await client.get("/reports?ward=ward-b&status=open&service=street_light")
    assert routed in filtered.text and open_one not in filtered.text
    one = await client.get(f"/reports/{open_one.lower()}", follow_redirects=True)
    assert one.status_code == 200 and "0912 345 678" not in one.text
    assert one.text.count("<h1") == 1 and 'class="status-badge status-submitted"' in one.text


# Staff ------------------------------------------------------------------------------------


async def test_the_staff_queue_shows_only_their_department(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    ours = (await submit(client)).json()["code"]
    theirs = (await submit(client, lat=21.70, lon=104.89)).json()["code"]  # routed to transport
    async with browser(app, world.staff) as desk:
        queue = await desk.get("/staff/reports")
        assert queue.status_code == 200
        assert ours in queue.text and theirs not in queue.text
        assert '<th scope="col">' in queue.text and 'href="/staff/reports"' in queue.text
        filtered = await desk.get("/staff/reports?status=resolved")
        assert ours not in filtered.text
        elsewhere = await desk.get(f"/staff/reports/{theirs}")
        assert elsewhere.status_code == 403


async def test_staff_change_the_status_with_a_note_and_a_proof_photo(
    client: httpx.AsyncClient, session: AsyncSession, world: World, app: FastAPI
) -> None:
    code = (await submit(client, reporter_phone="0912345678")).json()["code"]
    async with browser(app, world.staff) as desk:
        case = await desk.get(f"/staff/reports/{code}")
        assert case.status_code == 200 and "+84912345678" in case.text
        assert '<option value="resolved">' in case.text
        assert '<option value="duplicate">' not in case.text  # merging does that
        token = hidden_fields(case.text)["csrf_token"]

        missing_note = await desk.post(
            f"/staff/reports/{code}/status",
            data={"csrf_token": token, "status": "resolved", "visibility": "public"},
        )
        assert missing_note.status_code == 422
        assert '<a href="#status-note">' in missing_note.text
        assert '<option value="resolved" selected>' in missing_note.text  # kept

        done = await desk.post(
            f"/staff/reports/{code}/status",
            data={
                "csrf_token": token,
                "status": "resolved",
                "note": "Đã thay bóng mới",
                "visibility": "public",
            },
            files=[("photos", ("after.jpg", jpeg(), "image/jpeg"))],
        )
        assert done.status_code == 303
        assert done.headers["location"] == f"/staff/reports/{code}?done=status"
        case = await desk.get(done.headers["location"])
        assert 'role="status"' in case.text and "Đã thay bóng mới" in case.text

        noted = await desk.post(
            f"/staff/reports/{code}/note",
            data={"csrf_token": token, "note": "Kiểm tra lại tuần sau", "visibility": "internal"},
        )
        assert noted.status_code == 303
        assigned = await desk.post(
            f"/staff/reports/{code}/assign",
            data={"csrf_token": token, "assignee_id": str(world.staff.id)},
        )
        assert assigned.status_code == 303
        wrong_person = await desk.post(
            f"/staff/reports/{code}/assign",
            data={"csrf_token": token, "assignee_id": str(world.other_staff.id)},
        )
        assert wrong_person.status_code == 422 and 'role="alert"' in wrong_person.text
        case = await desk.get(f"/staff/reports/{code}")
        assert "Kiểm tra lại tuần sau" in case.text
    report = await by_code(session, code)
    assert report.status == "resolved" and report.assignee_id == world.staff.id
    kinds = (
        await session.execute(select(ReportPhoto.kind).where(ReportPhoto.report_id == report.id))
    ).scalars()
    assert list(kinds) == ["proof"]
    public = await client.get(f"/reports/{code}")
    assert "Đã thay bóng mới" in public.text and "Kiểm tra lại tuần sau" not in public.text


async def test_staff_merge_and_hide(
    client: httpx.AsyncClient, session: AsyncSession, world: World, app: FastAPI
) -> None:
    first = (await submit(client)).json()["code"]
    second = (await submit(client)).json()["code"]
    async with browser(app, world.staff) as desk:
        token = hidden_fields((await desk.get(f"/staff/reports/{second}")).text)["csrf_token"]
        unknown = await desk.post(
            f"/staff/reports/{second}/merge", data={"csrf_token": token, "into_code": "ZZZZ-ZZZZ"}
        )
        assert unknown.status_code == 422 and '<a href="#merge-into">' in unknown.text
        merged = await desk.post(
            f"/staff/reports/{second}/merge",
            data={"csrf_token": token, "into_code": first.lower()},
        )
        assert merged.status_code == 303
        hidden = await desk.post(
            f"/staff/reports/{first}/hide", data={"csrf_token": token, "reason": "Lời lẽ xúc phạm"}
        )
        assert hidden.status_code == 303
    assert (await by_code(session, second)).status == "duplicate"
    assert (await by_code(session, first)).hidden is True
    assert (await client.get(f"/reports/{first}")).status_code == 404


async def test_a_citizen_gets_a_readable_403_on_staff_pages(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    code = (await submit(client)).json()["code"]
    async with browser(app, world.citizen) as someone:
        for path in ("/staff/reports", f"/staff/reports/{code}"):
            r = await someone.get(path)
            assert r.status_code == 403
            assert r.headers["content-type"].startswith("text/html")
            assert r.text.count("<h1") == 1
            assert 'href="/staff/reports"' not in r.text  # no workbench link for residents
    anonymous = await client.get("/staff/reports")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


async def test_forms_without_the_csrf_token_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, world: World, app: FastAPI
) -> None:
    code = (await submit(client)).json()["code"]
    fields = await report_form(client)
    before = await count_reports(session)
    del fields["csrf_token"]
    assert (await send(client, fields)).status_code == 403
    assert (await client.post(f"/reports/{code}/support", data={})).status_code == 403
    assert (
        await client.post("/reports/track", data={"code": code, "secret": "x" * 16})
    ).status_code == 403
    async with browser(app, world.staff) as desk:
        await desk.get(f"/staff/reports/{code}")
        r = await desk.post(f"/staff/reports/{code}/hide", data={"reason": "abc def"})
        assert r.status_code == 403
    assert await count_reports(session) == before
    assert (await by_code(session, code)).support_count == 0
