"""The page shell: home, the four audiences, display preferences, and the API docs page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.auth.deps import PageUserOptional
from app.kit.csrf import verify_csrf
from app.kit.prefs import PREFS_COOKIE, Preferences
from app.kit.templating import cookie_secure, render

router = APIRouter(include_in_schema=False)

AUDIENCES = ("residents", "visitors", "businesses", "accessibility")


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, user: PageUserOptional) -> Response:
    return render(request, "web/home.html", {"audiences": AUDIENCES})


@router.get("/residents", response_class=HTMLResponse)
async def residents(request: Request, user: PageUserOptional) -> Response:
    return render(request, "web/residents.html")


@router.get("/visitors", response_class=HTMLResponse)
async def visitors(request: Request, user: PageUserOptional) -> Response:
    return render(request, "web/visitors.html")


@router.get("/businesses", response_class=HTMLResponse)
async def businesses(request: Request, user: PageUserOptional) -> Response:
    return render(request, "web/businesses.html")


@router.get("/accessibility", response_class=HTMLResponse)
async def accessibility(request: Request, user: PageUserOptional) -> Response:
    return render(request, "web/accessibility.html")


@router.get("/preferences", response_class=HTMLResponse)
async def preferences(
    request: Request, user: PageUserOptional, saved: int = 0, next: str | None = None
) -> Response:
    return render(request, "web/preferences.html", {"saved": bool(saved), "next": safe_next(next)})


@router.post("/preferences", dependencies=[Depends(verify_csrf)])
async def save_preferences(
    request: Request,
    high_contrast: Annotated[str, Form()] = "",
    large_text: Annotated[str, Form()] = "",
    reduced_motion: Annotated[str, Form()] = "",
    simple_language: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    prefs = Preferences.from_form(
        {
            "high_contrast": high_contrast,
            "large_text": large_text,
            "reduced_motion": reduced_motion,
            "simple_language": simple_language,
        }
    )
    response = RedirectResponse(f"/preferences?saved=1&next={safe_next(next)}", status_code=303)
    response.set_cookie(
        PREFS_COOKIE,
        prefs.to_cookie(),
        max_age=365 * 24 * 3600,
        httponly=True,
        secure=cookie_secure(request),
        samesite="lax",
    )
    return response


@router.get("/favicon.ico")
async def favicon() -> Response:
    return RedirectResponse("/static/icon.svg", status_code=301)


@router.get("/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> Response:
    return render(request, "web/docs.html")
