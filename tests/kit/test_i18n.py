import httpx
import pytest

from app.kit import i18n


@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        (None, None, None, "vi"),
        ("en", None, None, "en"),
        (None, "en", None, "en"),
        (None, None, "en-US,en;q=0.9", "en"),
        (None, None, "fr-FR, en;q=0.5, vi;q=0.8", "vi"),
        (None, None, "de-DE", "vi"),
        ("vi", "en", "en", "vi"),
        (None, "vi", "en-GB", "vi"),
        ("xx", "en", None, "en"),
    ],
)
def test_negotiation_order_query_cookie_header_default(query, cookie, header, expected) -> None:
    assert i18n.negotiate(query, cookie, header, "vi") == expected


async def test_lang_query_translates_the_page_and_is_remembered(client: httpx.AsyncClient) -> None:
    vi = await client.get("/login")
    assert '<html lang="vi"' in vi.text and "Đăng nhập" in vi.text
    en = await client.get("/login?lang=en")
    assert '<html lang="en"' in en.text and "Sign in" in en.text and "Đăng nhập" not in en.text
    assert en.headers["Content-Language"] == "en"
    assert "lang=en" in en.headers["set-cookie"]
    again = await client.get("/login")  # the cookie now holds the choice
    assert '<html lang="en"' in again.text


async def test_accept_language_picks_english(client: httpx.AsyncClient) -> None:
    r = await client.get("/", headers={"Accept-Language": "en-AU,en;q=0.8"})
    assert '<html lang="en"' in r.text
    assert "Vary" in r.headers and "Accept-Language" in r.headers["Vary"]


async def test_api_errors_follow_the_language(client: httpx.AsyncClient) -> None:
    en = await client.get("/api/v1/me", headers={"Accept-Language": "en"})
    vi = await client.get("/api/v1/me", headers={"Accept-Language": "vi"})
    assert en.json()["title"] == "You need to sign in."
    assert vi.json()["title"] != en.json()["title"]


def test_money_dates_and_numbers_per_locale() -> None:
    from datetime import UTC, datetime

    assert i18n.format_money(1_500_000, "vi").replace("\xa0", " ") == "1.500.000 ₫"
    assert i18n.format_money(1_500_000, "en") == "₫1,500,000"
    assert i18n.format_number(1234.5, "vi") == "1.234,5"
    moment = datetime(2026, 2, 16, 17, 30, tzinfo=UTC)  # 00:30 on the 17th in Hà Nội
    assert "17" in i18n.format_datetime(moment, "Asia/Ho_Chi_Minh", "vi")
    assert "00:30" in i18n.format_datetime(moment, "Asia/Ho_Chi_Minh", "vi")


def test_every_catalog_message_is_translated_to_vietnamese() -> None:
    from babel.messages.pofile import read_po

    with (i18n.TRANSLATIONS_DIR / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    missing = [m.id for m in catalog if m.id and not m.string]
    assert not missing, f"untranslated: {missing}"
