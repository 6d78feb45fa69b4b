"""create_app(): the one place where the application is assembled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from app.auth.passwords import Hasher
from app.config import Settings, get_settings
from app.db import create_engine, create_sessionmaker
from app.errors import install_error_handlers
from app.kit.cache import PublicCacheMiddleware, ResponseCache
from app.kit.i18n import compile_catalogs
from app.kit.logging import configure_logging
from app.kit.middleware import (
    BodyLimitMiddleware,
    ClientAddressMiddleware,
    LocaleMiddleware,
    RateLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from app.kit.ratelimit import Limiter

logger = logging.getLogger("citizenhub")
STATIC_DIR = Path(__file__).resolve().parent / "static"


def _swagger_dir() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"


DESCRIPTION = """
Citizen Hub serves a province's residents, visitors, businesses and people with disabilities
from one backend. Every endpoint below is under `/api/v1` and answers errors as RFC 9457
`application/problem+json`. Sign in with `POST /api/v1/auth/token` (OAuth2 password flow).
"""

TAGS = [
    {
        "name": "accounts",
        "description": "Registration, sign-in, tokens, and a person's data rights.",
    },
    {"name": "administration", "description": "Accounts and roles, for managers and admins."},
    {"name": "organisation", "description": "Departments, wards and communes of the province."},
    {"name": "calendar", "description": "Working days, public holidays and deadline computation."},
    {
        "name": "reports",
        "description": "Reports, feedback and requests: catalogue, submitting, following.",
    },
    {
        "name": "reports: staff",
        "description": "Working the cases: queue, status, notes, merge, hide.",
    },
    {"name": "devices", "description": "Push notification tokens of app installs."},
    {
        "name": "preferences",
        "description": "Notification settings, report subscriptions and emergency-alert areas.",
    },
    {
        "name": "alerts",
        "description": "Emergency alerts and announcements: the public feed (JSON, Atom), and "
        "composing, previewing, sending and cancelling them (managers).",
    },
    {
        "name": "places",
        "description": "Places for visitors and residents: nearby, search, accessibility, "
        "opening hours, GeoJSON and the whole-dataset download for offline use.",
    },
    {"name": "events", "description": "Festivals, markets and performances; iCalendar feeds."},
    {
        "name": "practical help",
        "description": "Emergency numbers, hotlines, tourist information and guide pages.",
    },
    {
        "name": "procedures",
        "description": "Administrative procedures: search (accents and typos tolerated), "
        "checklists with documents, fees and time, life events; staff changes.",
    },
    {
        "name": "dossiers",
        "description": "Tracking a dossier (hồ sơ) by its code and a second factor; following "
        "and rating it.",
    },
    {
        "name": "dossiers: staff",
        "description": "Registering dossiers at the one-stop desk, the working-day clock, "
        "status changes, supplements and notes.",
    },
    {"name": "inbox", "description": "A signed-in person's notifications, read and unread."},
    {"name": "operations", "description": "Health and readiness probes."},
    {"name": "media", "description": "Photos attached to reports and their thumbnails (JPEG)."},
    {
        "name": "open311",
        "description": "Open311 GeoReport v2 for partner systems: services, requests, tokens, "
        "in .json or .xml; sending needs an api_key issued by the administrators.",
    },
]


def _routers(app: FastAPI) -> None:
    from app.alerts import api as alerts_api
    from app.alerts import pages as alerts_pages
    from app.auth import api as auth_api
    from app.auth import pages as auth_pages
    from app.calendar import api as calendar_api
    from app.devices import api as devices_api
    from app.dossiers import api as dossiers_api
    from app.dossiers import pages as dossiers_pages
    from app.dossiers import staff_pages as dossiers_staff_pages
    from app.events import api as events_api
    from app.events import pages as events_pages
    from app.events import staff_pages as events_staff_pages
    from app.inbox import api as inbox_api
    from app.inbox import pages as inbox_pages
    from app.open311 import api as open311_api
    from app.ops import api as ops_api
    from app.org import api as org_api
    from app.photos import api as photos_api
    from app.places import api as places_api
    from app.places import pages as places_pages
    from app.places import staff_pages as places_staff_pages
    from app.practical import api as practical_api
    from app.practical import pages as practical_pages
    from app.preferences import api as preferences_api
    from app.preferences import pages as preferences_pages
    from app.procedures import api as procedures_api
    from app.procedures import forms as procedures_forms
    from app.procedures import pages as procedures_pages
    from app.procedures import transfer_api as procedures_transfer_api
    from app.reports import api as reports_api
    from app.reports import pages as reports_pages
    from app.web import pages as web_pages

    app.include_router(ops_api.router)
    app.include_router(auth_api.router)
    app.include_router(auth_api.admin)
    app.include_router(org_api.router)
    app.include_router(photos_api.router)
    app.include_router(calendar_api.router)
    app.include_router(reports_api.router)
    app.include_router(reports_api.staff_router)
    app.include_router(inbox_api.router)
    app.include_router(devices_api.router)
    app.include_router(preferences_api.router)
    app.include_router(reports_pages.router)
    app.include_router(preferences_pages.router)
    app.include_router(inbox_pages.router)
    app.include_router(alerts_api.router)
    app.include_router(alerts_api.staff_router)
    app.include_router(alerts_pages.router)
    app.include_router(places_api.router)
    app.include_router(places_pages.router)
    app.include_router(places_staff_pages.router)
    app.include_router(events_api.router)
    app.include_router(events_pages.router)
    app.include_router(events_staff_pages.router)
    app.include_router(practical_api.router)
    app.include_router(practical_pages.router)
    # Before the procedures API: /procedures/export is not a procedure's code.
    app.include_router(procedures_transfer_api.router)
    app.include_router(procedures_forms.router)
    app.include_router(procedures_pages.router)
    app.include_router(procedures_api.router)
    app.include_router(dossiers_api.router)
    app.include_router(dossiers_api.staff_router)
    app.include_router(dossiers_pages.router)
    app.include_router(dossiers_staff_pages.router)
    app.include_router(open311_api.router)
    app.include_router(web_pages.router)
    app.include_router(auth_pages.router)


def create_app(settings: Settings | None = None, *, engine_kwargs: dict | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    compile_catalogs()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owns_engine = not hasattr(app.state, "engine")
        if owns_engine:
            if settings.is_sqlite:
                Path(settings.database_url.split("///", 1)[-1]).parent.mkdir(
                    parents=True, exist_ok=True
                )
            app.state.engine = create_engine(settings.database_url, **(engine_kwargs or {}))
            app.state.sessionmaker = create_sessionmaker(app.state.engine)
        settings.upload_dir.mkdir(parents=True, exist_ok=True)
        jobs: list[asyncio.Task[None]] = []
        stop = asyncio.Event()
        if settings.run_dispatcher_in_process:
            from app.push.jobs import run_push_worker
            from app.reports.jobs import close_resolved_forever

            jobs.append(
                asyncio.create_task(close_resolved_forever(app.state.sessionmaker, settings, stop))
            )
            app.state.sqlite_write_lock = asyncio.Lock()
            jobs.append(
                asyncio.create_task(
                    run_push_worker(
                        app.state.sessionmaker,
                        settings,
                        stop,
                        write_lock=app.state.sqlite_write_lock,
                    )
                )
            )
        if settings.is_development and settings.print_demo_credentials:
            from app.demo.loader import print_demo_credentials

            print_demo_credentials()
        try:
            yield
        finally:
            stop.set()  # the push worker finishes its round and closes its sender
            if jobs:
                _done, pending = await asyncio.wait(jobs, timeout=5)
                for job in pending:
                    job.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
            await app.state.cache.close()
            if owns_engine:
                await app.state.engine.dispose()

    app = FastAPI(
        title="Citizen Hub API",
        version="1.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None,  # served by app.web.pages with local assets and no inline script
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.hasher = Hasher(
        settings.password_hash_time_cost,
        settings.password_hash_memory_kib,
        settings.password_hash_parallelism,
        settings.password_hash_concurrency,
    )
    app.state.limiter = Limiter(settings.redis_url)
    app.state.cache = ResponseCache(settings.redis_url)

    install_error_handlers(app)
    _routers(app)
    app.mount("/static/swagger", StaticFiles(directory=str(_swagger_dir())), name="swagger")
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    # Added innermost first: the last one added sees the request first.
    from app.places.api import PUBLIC_CACHED_PATHS as PLACES_CACHED
    from app.procedures.api import PUBLIC_CACHED_PATHS as PROCEDURES_CACHED
    from app.reports.api import PUBLIC_CACHED_PATHS as REPORTS_CACHED

    app.add_middleware(
        PublicCacheMiddleware,
        cache=app.state.cache,
        paths=REPORTS_CACHED | PLACES_CACHED | PROCEDURES_CACHED,
    )
    app.add_middleware(RateLimitMiddleware, limiter=app.state.limiter, settings=settings)
    app.add_middleware(
        BodyLimitMiddleware, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes
    )
    if settings.pwa_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.pwa_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Accept-Language"],
            expose_headers=["X-Request-ID", "Retry-After", "ETag"],
            max_age=600,
        )
    app.add_middleware(LocaleMiddleware, default=settings.default_locale)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(ClientAddressMiddleware, trusted=settings.proxy_networks)
    app.add_middleware(RequestContextMiddleware)
    return app
