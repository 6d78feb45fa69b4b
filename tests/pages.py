"""Helpers for driving the server-rendered forms like a browser without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

import httpx

Values = dict[str, str | list[str]]

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_token(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    match = _TOKEN.search(page.text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


async def submit(
    client: httpx.AsyncClient, form_page: str, action: str, data: dict[str, str]
) -> httpx.Response:
    token = await csrf_token(client, form_page)
    return await client.post(action, data={**data, "csrf_token": token})


async def page_login(client: httpx.AsyncClient, identifier: str, password: str) -> httpx.Response:
    return await submit(
        client, "/login", "/login", {"identifier": identifier, "password": password}
    )


class _FormReader(HTMLParser):
    """The values a browser would send for the form with this action (its controls as shown);
    controls named in `lists` (checkboxes sharing a name) as lists."""

    def __init__(self, action: str, lists: frozenset[str]) -> None:
        super().__init__()
        self.action = action
        self.lists = lists
        self.inside = False
        self.values: Values = {}
        self.select: str | None = None
        self.first_option: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            if a["name"] in self.lists:
                chosen = self.values.setdefault(a["name"], [])
                assert isinstance(chosen, list)
                if "checked" in a:
                    chosen.append(a["value"])
                return
            if a.get("type") in ("radio", "checkbox") and "checked" not in a:
                return
            self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self.select, self.first_option = a["name"], None
        elif tag == "option" and self.select:
            if self.first_option is None:
                self.first_option = a.get("value", "")
            if "selected" in a:
                self.values[self.select] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a["name"]
            self.values[a["name"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            self.values.setdefault(self.select, self.first_option or "")
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            value = self.values[self.textarea]
            assert isinstance(value, str)
            self.values[self.textarea] = value + data


def read_form(html: str, action: str, lists: Iterable[str] = ()) -> Values:
    reader = _FormReader(action, frozenset(lists))
    reader.feed(html)
    assert reader.values, f"no form posting to {action}"
    return reader.values
