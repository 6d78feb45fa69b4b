"""One settings object for the whole application, read from the environment (prefix CITIZENHUB_)."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me-in-production"  # noqa: S105 - the placeholder we refuse outside dev
ROOT_DIR = Path(__file__).resolve().parent.parent


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class PushBackend(StrEnum):
    log = "log"
    firebase = "firebase"


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CITIZENHUB_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Environment = Environment.production
    database_url: str = f"sqlite+aiosqlite:///{ROOT_DIR / 'var' / 'citizenhub.sqlite3'}"
    secret_key: str = PLACEHOLDER_SECRET
    # Origins of the installable web app allowed to call the API from a browser (CORS).
    pwa_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Reverse proxies whose X-Forwarded-For we believe (addresses or CIDR networks).
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    default_locale: str = "vi"
    time_zone: str = "Asia/Ho_Chi_Minh"
    # Places not verified within this many days are flagged stale on pages and in the API.
    place_stale_after_days: int = 365
    upload_dir: Path = ROOT_DIR / "var" / "uploads"
    max_body_bytes: int = 1 * 1024 * 1024
    max_upload_bytes: int = 30 * 1024 * 1024
    max_photo_bytes: int = 10 * 1024 * 1024
    max_photo_pixels: int = 40_000_000
    redis_url: str | None = None
    push_backend: PushBackend = PushBackend.log
    firebase_credentials_file: Path | None = None
    firebase_project_id: str | None = None
    fcm_endpoint_url: str | None = None
    # Where this site is reachable from outside (https://hub.example.vn): push links open there.
    public_base_url: str | None = None

    # argon2id cost (RFC 9106 low-memory profile by default); tests lower it to stay fast.
    password_hash_time_cost: int = 3
    password_hash_memory_kib: int = 65536
    password_hash_parallelism: int = 4
    # Hashes computed at once per worker (each holds password_hash_memory_kib of memory).
    password_hash_concurrency: int = 1
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    web_session_hours: int = 12
    privacy_notice_version: str = "2026-07-01"
    # Per client IP, every request except health checks and static files.
    rate_limit_read_per_minute: int = 3000
    rate_limit_write_per_minute: int = 120
    login_attempts_per_account: int = 5
    login_attempts_per_ip: int = 30
    login_window_seconds: int = 900
    # Reports: submissions per minute per address, account and device; anonymous lookups per
    # minute per address; resolved cases close by themselves after this many quiet days.
    report_submissions_per_minute: int = 10
    report_lookups_per_minute: int = 20
    report_auto_close_days: int = 14
    # Dossiers: lookups (code + phone digits or PIN) per minute per address; failed lookups of
    # one code within the window, after which that code is locked for everyone until it ends.
    dossier_lookups_per_minute: int = 10
    dossier_lookup_failures_per_code: int = 5
    dossier_lookup_window_seconds: int = 900
    log_level: str = "INFO"
    log_json: bool = True
    run_dispatcher_in_process: bool = True
    print_demo_credentials: bool = True

    _split = field_validator("pwa_origins", "trusted_proxies", mode="before")(_split_csv)

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("vi", "en"):
            raise ValueError("default_locale must be 'vi' or 'en'")
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment is not Environment.production and self.secret_key == PLACEHOLDER_SECRET:
            # Development and tests: a random key kept under var/, shared by every local worker.
            self.secret_key = _local_secret()
        if self.environment is Environment.production and (
            self.secret_key == PLACEHOLDER_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError(
                "CITIZENHUB_SECRET_KEY must be set to a random value of at least 32 "
                "characters outside development (python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        return self

    @model_validator(mode="after")
    def _firebase_needs_credentials(self) -> Settings:
        if self.push_backend is PushBackend.firebase and (
            self.firebase_credentials_file is None or not self.firebase_project_id
        ):
            raise ValueError(
                "CITIZENHUB_PUSH_BACKEND=firebase needs CITIZENHUB_FIREBASE_CREDENTIALS_FILE "
                "(a service-account JSON) and CITIZENHUB_FIREBASE_PROJECT_ID"
            )
        return self

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.development

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(p, strict=False) for p in self.trusted_proxies]


def _local_secret() -> str:
    import secrets

    path = ROOT_DIR / "var" / ".dev-secret-key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
