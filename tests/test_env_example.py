import re
from pathlib import Path

from app.config import ROOT_DIR, Settings


def test_env_example_documents_every_setting() -> None:
    text = (ROOT_DIR / ".env.example").read_text(encoding="utf-8")
    documented = {m.lower() for m in re.findall(r"^CITIZENHUB_([A-Z_]+)=", text, flags=re.M)}
    assert documented == set(Settings.model_fields)


def test_production_refuses_the_placeholder_secret() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production", secret_key="change-me-in-production")
    with pytest.raises(ValidationError):
        Settings(environment="production", secret_key="short")
    assert Settings(environment="production", secret_key="x" * 40).secret_key == "x" * 40


def test_development_gets_a_random_persistent_key(tmp_path: Path) -> None:
    first = Settings(environment="development")
    second = Settings(environment="development")
    assert first.secret_key == second.secret_key != "change-me-in-production"
    assert len(first.secret_key) >= 32
