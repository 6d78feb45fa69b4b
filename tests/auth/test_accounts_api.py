from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Consent, Role, User
from app.auth.tokens import AccessClaims, make_access_token
from app.config import Settings
from tests.builders import PASSWORD, bearer, create_department, create_user, login, signed_in

STRONG = "mây trắng bay qua đèo Khau Phạ"


async def test_register_with_email_records_consent_version_and_time(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": "Lan.Nguyen@Example.VN",
            "password": STRONG,
            "full_name": "Nguyễn Thị Lan",
            "accept_privacy_notice": True,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "lan.nguyen@example.vn"
    assert body["role"] == "citizen"
    assert "password" not in response.text and "argon2" not in response.text
    consent = (
        await session.execute(select(Consent).where(Consent.user_id == body["id"]))
    ).scalar_one()
    assert consent.document == "privacy_notice"
    assert consent.version == settings.privacy_notice_version
    assert consent.accepted_at is not None


async def test_register_with_vietnamese_mobile_number_normalises_it(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"phone": "0912 345 678", "password": STRONG, "accept_privacy_notice": True},
    )
    assert response.status_code == 201, response.text
    assert response.json()["phone"] == "+84912345678"
    tokens = await login(client, "+84 912-345-678", STRONG)
    assert tokens["token_type"] == "bearer"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (
            {"email": "a@example.vn", "password": STRONG, "accept_privacy_notice": False},
            "accept_privacy_notice",
        ),
        (
            {"email": "a@example.vn", "password": "password123", "accept_privacy_notice": True},
            "password",
        ),
        ({"email": "a@example.vn", "password": "short", "accept_privacy_notice": True}, "password"),
        ({"phone": "0112345678", "password": STRONG, "accept_privacy_notice": True}, "phone"),
        ({"email": "not-an-email", "password": STRONG, "accept_privacy_notice": True}, "email"),
    ],
)
async def test_register_refuses_bad_input_naming_the_field(
    client: httpx.AsyncClient, payload: dict, field: str
) -> None:
    response = await client.post("/api/v1/auth/register", json=payload)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_register_refuses_a_password_equal_to_the_email(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": "hoangvanthu@example.vn",
            "password": "hoangvanthu",
            "accept_privacy_notice": True,
        },
    )
    assert response.status_code == 422


async def test_register_twice_is_a_conflict(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await create_user(session, email="taken@example.vn")
    await session.commit()
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "TAKEN@example.vn", "password": STRONG, "accept_privacy_notice": True},
    )
    assert response.status_code == 409


async def test_stored_password_is_argon2id(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "hash@example.vn", "password": STRONG, "accept_privacy_notice": True},
    )
    user = await session.get(User, response.json()["id"])
    assert user is not None and user.password_hash.startswith("$argon2id$")


async def test_login_then_me(client: httpx.AsyncClient, session: AsyncSession) -> None:
    user, headers = await signed_in(client, session, Role.citizen)
    response = await client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200
    assert response.json()["id"] == user.id


async def test_unknown_account_and_wrong_password_get_the_same_answer(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await create_user(session, email="real@example.vn")
    await session.commit()
    wrong = await client.post(
        "/api/v1/auth/token", data={"username": "real@example.vn", "password": "nope-nope"}
    )
    unknown = await client.post(
        "/api/v1/auth/token", data={"username": "ghost@example.vn", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda body: {k: v for k, v in body.items() if k != "request_id"}  # noqa: E731
    assert strip(wrong.json()) == strip(unknown.json())


async def test_login_is_throttled_per_account_with_retry_after(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await create_user(session, email="target@example.vn")
    await session.commit()
    for _ in range(settings.login_attempts_per_account):
        r = await client.post(
            "/api/v1/auth/token", data={"username": user.email, "password": "guess-guess"}
        )
        assert r.status_code == 401
    blocked = await client.post(
        "/api/v1/auth/token", data={"username": user.email, "password": PASSWORD}
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["status"] == 429
    # Another account from the same address is not locked by this one's failures.
    other = await create_user(session, email="other@example.vn")
    await session.commit()
    assert (
        await client.post(
            "/api/v1/auth/token", data={"username": other.email, "password": PASSWORD}
        )
    ).status_code == 200


async def test_login_is_throttled_per_client_address(
    client: httpx.AsyncClient, session: AsyncSession, app
) -> None:
    app.state.settings.login_attempts_per_ip = 3
    for n in range(3):
        r = await client.post(
            "/api/v1/auth/token",
            data={"username": f"nobody{n}@example.vn", "password": "x-x-x-x-x"},
        )
        assert r.status_code == 401
    r = await client.post(
        "/api/v1/auth/token", data={"username": "fresh@example.vn", "password": "x-x-x-x-x"}
    )
    assert r.status_code == 429
    assert "Retry-After" in r.headers


async def test_expired_tampered_and_foreign_tokens_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user, headers = await signed_in(client, session, Role.citizen)
    token = headers["Authorization"].split()[1]
    me = await client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload[:-2]}AA.{signature}"
    expired = make_access_token(
        settings.secret_key, AccessClaims(user.id, 1, "admin"), timedelta(seconds=-5)
    )
    foreign = make_access_token(
        "another-secret-key-of-sufficient-length-xx",
        AccessClaims(user.id, 1, "admin"),
        timedelta(minutes=5),
    )
    for bad in (tampered, expired, foreign, "garbage"):
        r = await client.get("/api/v1/me", headers=bearer(bad))
        assert r.status_code == 401, bad
        assert r.headers["WWW-Authenticate"] == "Bearer"
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_logout_revokes_the_access_token_and_its_refresh_token(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session)
    await session.commit()
    tokens = await login(client, user.identifier)
    assert (await client.post("/api/v1/auth/logout", headers=bearer(tokens))).status_code == 204
    assert (await client.get("/api/v1/me", headers=bearer(tokens))).status_code == 401
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401


async def test_refresh_rotates_and_a_reused_refresh_token_ends_the_sign_in(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session)
    await session.commit()
    first = await login(client, user.identifier)
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get("/api/v1/me", headers=bearer(second))).status_code == 200
    # The first refresh token comes back (stolen copy): refused, and the whole sign-in ends.
    reuse = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert reuse.status_code == 401
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    ).status_code == 401
    assert (await client.get("/api/v1/me", headers=bearer(second))).status_code == 401
    # A separate sign-in of the same person is untouched.
    assert (
        await client.get("/api/v1/me", headers=bearer(await login(client, user.identifier)))
    ).status_code == 200


async def test_change_password_ends_other_sign_ins(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session)
    await session.commit()
    here, elsewhere = await login(client, user.identifier), await login(client, user.identifier)
    wrong = await client.post(
        "/api/v1/auth/password",
        headers=bearer(here),
        json={"current_password": "not-it", "new_password": STRONG},
    )
    assert wrong.status_code == 422
    ok = await client.post(
        "/api/v1/auth/password",
        headers=bearer(here),
        json={"current_password": PASSWORD, "new_password": STRONG},
    )
    assert ok.status_code == 204
    assert (await client.get("/api/v1/me", headers=bearer(here))).status_code == 200
    assert (await client.get("/api/v1/me", headers=bearer(elsewhere))).status_code == 401
    old = await client.post(
        "/api/v1/auth/token", data={"username": user.identifier, "password": PASSWORD}
    )
    assert old.status_code == 401
    await login(client, user.identifier, STRONG)


async def test_export_holds_everything_about_me(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": "export@example.vn",
            "password": STRONG,
            "full_name": "Hà Thị Mai",
            "accept_privacy_notice": True,
        },
    )
    tokens = await login(client, "export@example.vn", STRONG)
    export = await client.get("/api/v1/me/export", headers=bearer(tokens))
    assert export.status_code == 200
    assert "attachment" in export.headers["Content-Disposition"]
    account = export.json()["sections"]["account"]
    assert account["id"] == response.json()["id"]
    assert account["email"] == "export@example.vn"
    assert account["full_name"] == "Hà Thị Mai"
    assert account["consents"][0]["document"] == "privacy_notice"
    assert len(account["sign_ins"]) == 1


async def test_delete_account_anonymises_and_signs_out(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session, email="leaving@example.vn", full_name="Đỗ Văn Tùng")
    await session.commit()
    user_id = user.id
    tokens = await login(client, "leaving@example.vn")
    refused = await client.request(
        "DELETE", "/api/v1/me", headers=bearer(tokens), json={"password": "wrong-one"}
    )
    assert refused.status_code == 422
    done = await client.request(
        "DELETE", "/api/v1/me", headers=bearer(tokens), json={"password": PASSWORD}
    )
    assert done.status_code == 204
    assert (await client.get("/api/v1/me", headers=bearer(tokens))).status_code == 401
    again = await client.post(
        "/api/v1/auth/token", data={"username": "leaving@example.vn", "password": PASSWORD}
    )
    assert again.status_code == 401
    session.expire_all()
    row = await session.get(User, user_id)
    assert row is not None and row.deleted_at is not None
    assert row.email is None and row.phone is None and row.full_name is None
    assert (
        await session.execute(select(Consent).where(Consent.user_id == user_id))
    ).first() is None
    # The address is free for a new account.
    r = await client.post(
        "/api/v1/auth/register",
        json={"email": "leaving@example.vn", "password": STRONG, "accept_privacy_notice": True},
    )
    assert r.status_code == 201


async def test_admin_creates_staff_only_with_a_department(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    department = await create_department(session, code="health")
    _admin, headers = await signed_in(client, session, Role.admin)
    missing = await client.post(
        "/api/v1/users",
        headers=headers,
        json={"email": "s1@example.vn", "password": STRONG, "role": "staff"},
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "department_code"
    ok = await client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "email": "s1@example.vn",
            "password": STRONG,
            "role": "staff",
            "department_code": "health",
        },
    )
    assert ok.status_code == 201
    assert ok.json()["department_id"] == department.id


async def test_admin_cannot_demote_themself(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin, headers = await signed_in(client, session, Role.admin)
    r = await client.patch(f"/api/v1/users/{admin.id}", headers=headers, json={"role": "citizen"})
    assert r.status_code == 403


async def test_deactivating_an_account_ends_its_sign_ins(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _admin, admin_headers = await signed_in(client, session, Role.admin)
    user, user_headers = await signed_in(client, session, Role.citizen)
    r = await client.patch(
        f"/api/v1/users/{user.id}", headers=admin_headers, json={"is_active": False}
    )
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert (await client.get("/api/v1/me", headers=user_headers)).status_code == 401
