"""The console cookie and the checks every state-changing form passes.

The cookie carries only the session's random id: HttpOnly (no script reads it), SameSite=Strict
(no other site's page sends it), Path=/console (the API never sees it), Secure when served over
HTTPS, and a Max-Age equal to the server-side session's lifetime. A form changes something only
with the session's CSRF token and, when the browser names one, an Origin of this host.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from pica.authority.console_ports import ConsoleSession

COOKIE_NAME = "pica_console"
COOKIE_PATH = "/console"
CSRF_FIELD = "csrf_token"


def session_id_of(request: Request) -> str:
    return request.cookies.get(COOKIE_NAME, "")


def set_session_cookie(response: Response, request: Request, session_id: str, seconds: int) -> None:
    response.set_cookie(
        COOKIE_NAME,
        session_id,
        max_age=seconds,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE_NAME,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def csrf_matches(session: ConsoleSession, submitted: str | None) -> bool:
    if not submitted:
        return False
    return hmac.compare_digest(session.csrf_token.encode(), submitted.encode())


def same_origin(request: Request) -> bool:
    """False when the browser says the form came from another origin (absent: not refused,
    the CSRF token still is checked)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")
