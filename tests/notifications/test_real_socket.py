"""The operator's staging set-up, exactly as production is configured: a service-account file
and an FCM endpoint URL. The fake FCM listens on a real loopback socket and also answers the
OAuth2 token request, so nothing leaves the machine and nothing is patched in the sender."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from notifications.fake_fcm import FakeFcm, write_service_account
from notifications.message import PushMessage
from notifications.senders import FirebaseSender


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served_fake() -> Iterator[tuple[FakeFcm, str]]:
    fake = FakeFcm()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(fake, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "fake FCM did not start"
        time.sleep(0.02)
    yield fake, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


async def test_a_service_account_file_and_an_endpoint_url_reach_the_fake(
    served_fake: tuple[FakeFcm, str], tmp_path: Path
) -> None:
    fake, base = served_fake
    credentials = write_service_account(
        tmp_path / "sa.json", project_id="staging", token_uri=f"{base}/token"
    )
    sender = FirebaseSender("staging", credentials_file=credentials, endpoint_url=base)
    try:
        message = PushMessage(title="Cảnh báo", body="Mưa lớn ở Trạm Tấu", data={"nid": "7"})
        results = await sender.send(
            ["tok-1", "dead-2", "quota-3", "down-4", "bad-5", "apns-6"], message
        )
        assert [(r.outcome, r.error_code, r.retry_after) for r in results] == [
            ("sent", None, None),
            ("dead", "UNREGISTERED", None),
            ("retry", "QUOTA_EXCEEDED", 30.0),
            ("retry", "UNAVAILABLE", None),
            ("invalid", "INVALID_ARGUMENT", None),
            ("misconfigured", "THIRD_PARTY_AUTH_ERROR", None),
        ]
        assert results[0].message_id
        subscribed = await sender.subscribe(["tok-1"], "alerts-all-vi")
        assert subscribed[0].outcome == "sent"
        topic = await sender.send_topic("alerts-all-vi", message)
        assert topic.outcome == "sent"
    finally:
        await sender.aclose()
    assert fake.accepted_tokens() == ["tok-1"]
    assert fake.members("alerts-all-vi") == {"tok-1"}
    assert [a.topic for a in fake.accepted] == [None, "alerts-all-vi"]
