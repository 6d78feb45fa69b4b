"""Fixtures: a fake FCM and a real firebase-admin sender wired to it through ASGITransport."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from notifications.fake_fcm import FakeFcm
from notifications.senders import FirebaseSender, StaticTokenCredentials

PROJECT = "citizen-hub-test"
NOW = 1_800_000_000.0


@pytest.fixture
def fake_fcm() -> FakeFcm:
    return FakeFcm()


@pytest.fixture
async def sender(fake_fcm: FakeFcm) -> AsyncIterator[FirebaseSender]:
    firebase = FirebaseSender(
        PROJECT,
        credential=StaticTokenCredentials("test-token"),
        transport=httpx.ASGITransport(app=fake_fcm),
        clock=lambda: NOW,
    )
    yield firebase
    await firebase.aclose()
