import json
import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from tests.builders import PASSWORD, create_user
from tests.pages import csrf_token, page_login, submit

PAGES = [
    "/",
    "/residents",
    "/visitors",
    "/businesses",
    "/accessibility",
    "/preferences",
    "/login",
    "/register",
    "/privacy",
    "/docs",
]


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_has_the_accessible_shell(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)
    assert r.status_code == 200
    html = r.text
    assert re.search(r'<html lang="(vi|en)"', html)
    assert html.count("<h1") == 1
    assert 'href="#main"' in html and '<main id="main"' in html
    assert "<header" in html and "<footer" in html and "<nav" in html
    assert "?lang=en" in html  # the language switch


async def test_home_leads_to_the_four_audiences(client: httpx.AsyncClient) -> None:
    html = (await client.get("/")).text
    for path in ("/residents", "/visitors", "/businesses", "/accessibility"):
        assert f'href="{path}"' in html


async def test_form_post_without_csrf_token_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session)
    await session.commit()
    await client.get("/login")  # gets the CSRF cookie
    missing = await client.post(
        "/login", data={"identifier": user.identifier, "password": PASSWORD}
    )
    wrong = await client.post(
        "/login", data={"identifier": user.identifier, "password": PASSWORD, "csrf_token": "0" * 64}
    )
    assert missing.status_code == wrong.status_code == 403
    assert "ch_session" not in client.cookies


async def test_csrf_token_from_another_browser_is_refused(client: httpx.AsyncClient, app) -> None:
    token = await csrf_token(client, "/preferences")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as other:
        await other.get("/preferences")
        r = await other.post("/preferences", data={"csrf_token": token, "large_text": "on"})
    assert r.status_code == 403


async def test_login_page_sets_a_secure_httponly_session_and_logout_ends_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session)
    await session.commit()
    r = await page_login(client, user.identifier, PASSWORD)
    assert r.status_code == 303
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("ch_session="))
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    account = await client.get("/account")
    assert account.status_code == 200 and user.email in account.text
    out = await submit(client, "/account", "/logout", {})
    assert out.status_code == 303
    assert (await client.get("/account")).status_code == 303  # back to the sign-in page


async def test_wrong_password_on_the_page_shows_a_message(client: httpx.AsyncClient) -> None:
    r = await page_login(client, "nobody@example.vn", "wrong-password")
    assert r.status_code == 401
    assert 'role="alert"' in r.text


async def test_register_through_the_page_without_javascript(client: httpx.AsyncClient) -> None:
    refused = await submit(
        client,
        "/register",
        "/register",
        {"identifier": "0987 654 321", "password": "matkhau123", "accept_privacy_notice": "yes"},
    )
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    assert 'value="0987 654 321"' in refused.text  # what was typed is kept
    ok = await submit(
        client,
        "/register",
        "/register",
        {
            "identifier": "0987 654 321",
            "password": "ruộng bậc thang mùa lúa chín",
            "accept_privacy_notice": "yes",
        },
    )
    assert ok.status_code == 303 and ok.headers["location"].startswith("/account")
    assert "+84987654321" in (await client.get("/account")).text


async def test_account_pages_export_and_delete(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session, email="page-user@example.vn", role=Role.citizen)
    await session.commit()
    await page_login(client, user.identifier, PASSWORD)
    export = await client.get("/account/export")
    assert export.status_code == 200
    assert json.loads(export.text)["sections"]["account"]["email"] == "page-user@example.vn"
    wrong = await submit(client, "/account", "/account/delete", {"password": "not-mine"})
    assert wrong.status_code == 422
    done = await submit(client, "/account", "/account/delete", {"password": PASSWORD})
    assert done.status_code == 200
    assert (await client.get("/account")).status_code == 303


async def test_preferences_apply_without_javascript(client: httpx.AsyncClient) -> None:
    r = await submit(
        client,
        "/preferences",
        "/preferences",
        {"high_contrast": "on", "large_text": "on", "next": "/visitors"},
    )
    assert r.status_code == 303
    html = (await client.get("/visitors")).text
    assert 'class="pref-high-contrast pref-large-text"' in html
    form = (await client.get("/preferences")).text
    assert 'id="high_contrast" name="high_contrast" value="on" checked' in form
    simple = await submit(client, "/preferences", "/preferences", {"simple_language": "on"})
    assert simple.status_code == 303
    assert 'class="pref-simple-language"' in (await client.get("/")).text


async def test_next_parameter_is_never_an_open_redirect(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session)
    await session.commit()
    token = await csrf_token(client, "/login")
    r = await client.post(
        "/login",
        data={
            "identifier": user.identifier,
            "password": PASSWORD,
            "next": "//evil.example/x",
            "csrf_token": token,
        },
    )
    assert r.headers["location"] == "/"
