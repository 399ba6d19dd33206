"""Reading a console form: `application/x-www-form-urlencoded`, small, one value per field."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

from pica.wire.body import read_limited

MAX_FORM_BYTES = 64 * 1024


class FormRefused(Exception):
    """Not a form this console sends (another content type, too large, or not text)."""


async def read_form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise FormRefused("a console form is sent as application/x-www-form-urlencoded")
    body = await read_limited(request, MAX_FORM_BYTES)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise FormRefused("the form is not UTF-8") from None
    fields: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        fields.setdefault(name, value)
    return fields
