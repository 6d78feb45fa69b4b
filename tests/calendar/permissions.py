"""Helpers for the role matrix in tests/test_permissions.py."""

from __future__ import annotations

from typing import Any


class DayPath(str):
    """A route path with a {day} parameter. The role matrix fills only {user_id} (it calls
    path.format(user_id=...)); this fills {day} too, and still equals the route's path."""

    __slots__ = ()

    def format(self, *args: Any, **kwargs: Any) -> str:
        kwargs.setdefault("day", "2027-03-08")
        return str.format(self, *args, **kwargs)
