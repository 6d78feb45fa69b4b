"""The Atom feed: for people and systems without push."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

import httpx

from tests.alerts.conftest import AlertWorld, create_alert, send_alert

A = "{http://www.w3.org/2005/Atom}"


def parse(text: str) -> ET.Element:
    root = ET.fromstring(text.encode())  # noqa: S314 - our own feed, in a test
    assert root.tag == f"{A}feed"
    return root


async def test_atom_feed_lists_sent_alerts_in_the_asked_language(
    client: httpx.AsyncClient, world: AlertWorld
) -> None:
    h = world.manager_headers
    await create_alert(client, h, title_vi="Bản nháp <chưa> gửi")
    flood = await send_alert(
        client,
        h,
        severity="emergency",
        title_vi="Lũ quét & sạt lở ở La Pán Tẩn",
        body_vi='Di chuyển ngay lên chỗ cao. "Không" qua suối.',
        whole_province=False,
        ward_codes=["la-pan-tan-t"],
    )
    notice = await send_alert(client, h, severity="announcement", title_vi="Lịch cắt điện")
    await client.post(f"/api/v1/alerts/{notice['id']}/cancel", headers=h)

    r = await client.get("/alerts.atom?lang=vi")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/atom+xml")
    root = parse(r.text)
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "vi"
    for required in ("id", "title", "updated", "author"):
        assert root.find(f"{A}{required}") is not None, required
    assert root.find(f"{A}link[@rel='self']") is not None
    entries = root.findall(f"{A}entry")
    assert len(entries) == 2  # the draft is not there
    newest, older = entries
    assert newest.findtext(f"{A}id", "").endswith(f"/alerts/{notice['id']}")
    assert newest.findtext(f"{A}title", "").startswith("Đã hủy") or "Cancelled" in (
        newest.findtext(f"{A}title", "")
    )
    assert older.findtext(f"{A}title", "").endswith("Lũ quét & sạt lở ở La Pán Tẩn")
    assert '"Không" qua suối' in older.findtext(f"{A}summary", "")
    assert "Xã La Pán Tẩn" in older.findtext(f"{A}summary", "")
    link = older.find(f"{A}link[@rel='alternate']")
    assert link is not None and link.get("href", "").endswith(f"/alerts/{flood['id']}")
    for entry in entries:
        for name in ("id", "title", "updated", "summary"):
            assert entry.findtext(f"{A}{name}"), name
        datetime.fromisoformat(entry.findtext(f"{A}updated", "").replace("Z", "+00:00"))
    assert older.find(f"{A}category").get("term") == "emergency"  # type: ignore[union-attr]

    client.cookies.clear()  # ?lang=vi above was remembered; Accept-Language comes after it
    en = parse((await client.get("/alerts.atom", headers={"Accept-Language": "en"})).text)
    titles = [e.findtext(f"{A}title", "") for e in en.findall(f"{A}entry")]
    assert titles[0].startswith("Cancelled: Announcement:")
    assert titles[1] == "Emergency: Flash flood on the Nậm Kim stream"
    assert en.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"


async def test_atom_feed_for_one_ward(client: httpx.AsyncClient, world: AlertWorld) -> None:
    h = world.manager_headers
    await send_alert(client, h, whole_province=False, ward_codes=["hong-ha-t"], title_vi="Hồng Hà")
    await send_alert(client, h, title_vi="Toàn tỉnh")
    root = parse((await client.get("/alerts.atom?ward=la-pan-tan-t")).text)
    assert [e.findtext(f"{A}title", "").split(": ")[-1] for e in root.findall(f"{A}entry")] == [
        "Toàn tỉnh"
    ]
    assert (await client.get("/alerts.atom?ward=nowhere")).status_code == 422


async def test_the_list_page_points_to_the_feed(
    client: httpx.AsyncClient, world: AlertWorld
) -> None:
    page = await client.get("/alerts")
    assert '<link rel="alternate" type="application/atom+xml"' in page.text
