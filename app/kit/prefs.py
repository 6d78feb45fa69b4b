"""Display preferences kept in a cookie and applied by the server, so they work without JavaScript."""

from __future__ import annotations

from dataclasses import asdict, dataclass

PREFS_COOKIE = "prefs"
_TRUE = {"1", "on", "true", "yes"}


@dataclass(frozen=True)
class Preferences:
    high_contrast: bool = False
    large_text: bool = False
    reduced_motion: bool = False
    simple_language: bool = False

    @classmethod
    def from_cookie(cls, raw: str | None) -> Preferences:
        if not raw:
            return cls()
        chosen = {item for item in raw.split(".") if item}
        return cls(**{name: name in chosen for name in cls.__dataclass_fields__})

    @classmethod
    def from_form(cls, form: dict[str, str]) -> Preferences:
        return cls(**{name: form.get(name, "") in _TRUE for name in cls.__dataclass_fields__})

    def to_cookie(self) -> str:
        return ".".join(name for name, value in asdict(self).items() if value)

    @property
    def html_classes(self) -> str:
        return " ".join(
            f"pref-{name.replace('_', '-')}" for name, value in asdict(self).items() if value
        )
