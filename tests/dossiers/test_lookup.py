"""Looking a dossier up: never by code alone, one answer for an unknown code and a wrong factor,
and throttles per address and per code against guessing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.dossiers import service
from app.dossiers.models import Status
from tests.builders import create_department, create_dossier, create_procedure, create_user

LOOKUP = "/api/v1/dossiers/lookup"


@pytest.fixture
async def dossier(session: AsyncSession) -> service.Registered:
    department = await create_department(session)
    procedure = await create_procedure(
        session,
        "8.200001",
        agency={
            "code": "agency-lookup",
            "name": {"vi": "Ủy ban nhân dân phường", "en": "Ward People's Committee"},
            "department_code": department.code,
        },
    )
    staff = await create_user(session, role=Role.staff, department=department)
    done = await create_dossier(
        session,
        procedure,
        actor=staff,
        phone="0987 65 4321",
        tax_code="5200123456",
        email="an@example.vn",
        address="Tổ 5, phường Yên Ninh",
    )
    await service.change_status(
        session, staff, done.dossier, Status.in_processing, note="Nội bộ: gọi lại", internal=True
    )
    await session.commit()
    return done


@pytest.fixture
def from_address(app: FastAPI) -> Callable[[str], Any]:
    """A client connecting from another address."""

    @asynccontextmanager
    async def open_client(ip: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
            yield c

    return open_client


def wrong_pin(pin: str) -> str:
    return "000000" if pin != "000000" else "111111"


def same_problem(response: httpx.Response) -> tuple[Any, ...]:
    body = response.json()
    return response.status_code, body["type"], body["title"], body["detail"]


async def test_a_code_alone_is_not_enough(
    client: httpx.AsyncClient, dossier: service.Registered
) -> None:
    response = await client.post(LOOKUP, json={"code": dossier.dossier.code})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "phone_last4" in response.json()["detail"]
    bad_shape = await client.post(LOOKUP, json={"code": dossier.dossier.code, "pin": "12ab56"})
    assert bad_shape.status_code == 422


async def test_unknown_code_and_wrong_factor_get_the_same_answer(
    client: httpx.AsyncClient, dossier: service.Registered
) -> None:
    code = dossier.dossier.code
    wrong_phone = await client.post(LOOKUP, json={"code": code, "phone_last4": "1234"})
    bad_pin = await client.post(LOOKUP, json={"code": code, "pin": wrong_pin(dossier.pin)})
    unknown = await client.post(LOOKUP, json={"code": "YB-000101-9999", "phone_last4": "4321"})
    unknown_pin = await client.post(LOOKUP, json={"code": "YB-000101-9999", "pin": dossier.pin})
    answers = {same_problem(r) for r in (wrong_phone, bad_pin, unknown, unknown_pin)}
    assert len(answers) == 1 and next(iter(answers))[0] == 404
    # Every factor given must match.
    half = await client.post(
        LOOKUP, json={"code": code, "phone_last4": "4321", "pin": wrong_pin(dossier.pin)}
    )
    assert half.status_code == 404


async def test_the_right_factor_shows_the_applicants_view(
    client: httpx.AsyncClient, dossier: service.Registered
) -> None:
    code = dossier.dossier.code
    by_phone = await client.post(LOOKUP, json={"code": code, "phone_last4": "4321"})
    assert by_phone.status_code == 200, by_phone.text
    typed = f" {code.lower()} "  # case and stray spaces are forgiven
    by_pin = await client.post(LOOKUP, json={"code": typed, "pin": dossier.pin})
    assert by_pin.status_code == 200, by_pin.text
    view = by_phone.json()
    assert view["code"] == code and view["status"] == "in_processing"
    assert view["procedure"]["code"] == "8.200001"
    assert view["agency"]["name"] == "Ủy ban nhân dân phường"
    assert view["due_at"] and view["overdue"] is False and view["can_rate"] is False
    assert [e["to_status"] for e in view["history"]] == ["received", "in_processing"]
    # Nothing the code and four digits should reveal: contacts, tax code, internal notes.
    for leaked in ("0987", "+8498", "5200123456", "an@example.vn", "Yên Ninh", "gọi lại"):
        assert leaked not in by_phone.text
    english = await client.post(
        LOOKUP,
        json={"code": code, "phone_last4": "4321"},
        headers={"Accept-Language": "en"},
    )
    assert english.json()["agency"]["name"] == "Ward People's Committee"
    assert english.json()["status_label"] == "Being processed"


async def test_lookups_are_throttled_per_address(
    app: FastAPI, from_address: Callable[[str], Any], dossier: service.Registered
) -> None:
    app.state.settings.dossier_lookups_per_minute = 3
    app.state.settings.dossier_lookup_failures_per_code = 100
    code = dossier.dossier.code
    async with from_address("198.51.100.1") as guesser:
        answers = [
            await guesser.post(LOOKUP, json={"code": code, "phone_last4": f"{n:04d}"})
            for n in range(4)
        ]
        assert [a.status_code for a in answers] == [404, 404, 404, 429]
        assert int(answers[-1].headers["Retry-After"]) >= 1
        assert answers[-1].headers["content-type"].startswith("application/problem+json")
        right = await guesser.post(LOOKUP, json={"code": code, "phone_last4": "4321"})
        assert right.status_code == 429
    async with from_address("198.51.100.2") as someone_else:
        ok = await someone_else.post(LOOKUP, json={"code": code, "phone_last4": "4321"})
        assert ok.status_code == 200


async def test_failed_guesses_lock_the_code_for_everyone(
    app: FastAPI,
    session: AsyncSession,
    from_address: Callable[[str], Any],
    dossier: service.Registered,
) -> None:
    """A guess of the four digits spread over many addresses: each address stays under its own
    limit, yet the code locks after a few failures and even the right answer waits."""
    app.state.settings.dossier_lookup_failures_per_code = 3
    code = dossier.dossier.code
    for n in range(3):
        async with from_address(f"192.0.2.{n + 1}") as guesser:
            miss = await guesser.post(LOOKUP, json={"code": code, "phone_last4": f"{n:04d}"})
            assert miss.status_code == 404
    async with from_address("192.0.2.50") as owner:
        locked = await owner.post(LOOKUP, json={"code": code.lower(), "phone_last4": "4321"})
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
        assert "Retry-After" in locked.headers
        # The same lock guards following and rating by the same factor.
        rate = await owner.post(
            "/api/v1/dossiers/rate", json={"code": code, "phone_last4": "4321", "score": 5}
        )
        assert rate.status_code == 429
        # Other dossiers are not affected.
        other = await create_dossier(session, phone="0911222333")
        await session.commit()
        fine = await owner.post(LOOKUP, json={"code": other.dossier.code, "phone_last4": "2333"})
        assert fine.status_code == 200, fine.text


async def test_unknown_codes_lock_like_known_ones(app: FastAPI, client: httpx.AsyncClient) -> None:
    """Locking is no oracle either: an unknown code locks after as many failures."""
    app.state.settings.dossier_lookup_failures_per_code = 2
    answers = [
        (await client.post(LOOKUP, json={"code": "YB-000101-0001", "pin": "123456"})).status_code
        for _ in range(3)
    ]
    assert answers == [404, 404, 429]


async def test_a_dossier_without_a_phone_is_found_by_pin_only(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    done = await create_dossier(session, phone=None)
    await session.commit()
    code = done.dossier.code
    assert (
        await client.post(LOOKUP, json={"code": code, "phone_last4": "0000"})
    ).status_code == 404
    assert (await client.post(LOOKUP, json={"code": code, "pin": done.pin})).status_code == 200
