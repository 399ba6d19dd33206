"""The console's pages and actions, mounted at `/console` by `create_app`.

Every page reads, and every action acts, through the services the API handlers call, with a
`Caller` naming the session's account and access key and a fresh request id: authorization,
the audit trail and every AWS rule apply unchanged. Pages are plain HTML (no script at all),
so they read the same with JavaScript off. A page without a live session sends the browser to
the sign-in page; an action (POST) also needs the session's CSRF token and, when the browser
sends one, an Origin of this host.

Past ~400 lines because it maps every console page and action to its service call; forms,
sessions, sign-in limits and CA creation live in their own modules.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from importlib.resources import files
from typing import Any, TypeVar
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from pica.authority.acm.certificates import CertificateRequest
from pica.authority.acm.listing import ListFilter
from pica.authority.acm.model import AcmKeyAlgorithm
from pica.authority.ca_access import Caller
from pica.authority.console_inventory import ConsoleInventory, TimelineEntry, common_name
from pica.authority.console_ports import ConsoleSession
from pica.authority.console_sessions import ConsoleSessions
from pica.authority.model import CaStatus, RevocationReason
from pica.errors import AccessDenied, NotFound, PicaError
from pica.wire.awsjson.acm_handlers import AcmServices
from pica.wire.awsjson.handlers import ApiServices
from pica.wire.body import BodyIncomplete, BodyTooLarge
from pica.wire.console.ca_creation import KEY_ALGORITHMS, create_ca
from pica.wire.console.forms import FormRefused, read_form
from pica.wire.console.session_cookie import (
    CSRF_FIELD,
    clear_session_cookie,
    csrf_matches,
    same_origin,
    session_id_of,
    set_session_cookie,
)
from pica.wire.console.sign_in_limit import SignInLimit

PREFIX = "/console"
INVALID_SIGN_IN = "The access key ID or secret access key is invalid."
# No script, no other host: styles come from this console alone.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: with it a browser sends "Origin: null" on the console's own forms.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_STATE_ACTIONS = {"disable": CaStatus.DISABLED, "enable": CaStatus.ACTIVE, "delete": None}
# How many days a CA deleted from the console stays restorable (the API's minimum).
DELETE_RESTORE_DAYS = 7
# ACM certificates listed under "Request certificate".
ACM_LISTED = 100

T = TypeVar("T")
Page = Callable[[Request, ConsoleSession], Awaitable[Response]]
Action = Callable[[Request, ConsoleSession, dict[str, str]], Awaitable[Response]]


def _when(value: Any) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _by_month(entries: list[TimelineEntry]) -> list[tuple[str, list[TimelineEntry]]]:
    """Sorted timeline entries grouped by the month they expire in (in order)."""
    groups: dict[str, list[TimelineEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.not_after.strftime("%B %Y"), []).append(entry)
    return list(groups.items())


def _status_of(error: PicaError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, AccessDenied):
        return 403
    return 400


@dataclass(frozen=True)
class ConsoleServices:
    api: ApiServices
    acm: AcmServices
    sessions: ConsoleSessions
    inventory: ConsoleInventory


class Console:
    def __init__(self, services: ConsoleServices, limit: SignInLimit | None = None) -> None:
        self._services = services
        self._api = services.api
        self._limit = limit or SignInLimit()
        self._templates = Environment(
            loader=PackageLoader("pica.wire.console", "templates"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._templates.filters["when"] = _when
        self._templates.filters["groupby_month"] = _by_month
        self._templates.globals["common_name"] = common_name
        self._css = files("pica.wire.console").joinpath("static/console.css").read_bytes()

    # --- plumbing ---------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        page, action = self._page, self._action
        return [
            Route(PREFIX, self._root, methods=["GET"]),
            Mount(
                PREFIX,
                routes=[
                    Route("/", self._root, methods=["GET"]),
                    Route("/console.css", self._stylesheet, methods=["GET"]),
                    Route("/sign-in", self._sign_in_form, methods=["GET"]),
                    Route("/sign-in", self._sign_in, methods=["POST"]),
                    Route("/sign-out", action(self._sign_out), methods=["POST"]),
                    Route("/cas", page(self._cas), methods=["GET"]),
                    Route("/cas/new", page(self._create_form), methods=["GET"]),
                    Route("/cas/new", action(self._create), methods=["POST"]),
                    Route("/ca", page(self._ca), methods=["GET"]),
                    Route("/ca/certificate", page(self._ca_certificate), methods=["GET"]),
                    Route("/ca/import", action(self._import), methods=["POST"]),
                    Route("/ca/state", page(self._state_form), methods=["GET"]),
                    Route("/ca/state", action(self._state), methods=["POST"]),
                    Route("/revoke", page(self._revoke_form), methods=["GET"]),
                    Route("/revoke", action(self._revoke), methods=["POST"]),
                    Route("/request", page(self._request_form), methods=["GET"]),
                    Route("/request", action(self._request), methods=["POST"]),
                    Route("/certificate", page(self._certificate), methods=["GET"]),
                    Route("/certificate/download", page(self._download), methods=["GET"]),
                    Route("/certificate/export", action(self._export), methods=["POST"]),
                    Route("/search", page(self._search), methods=["GET"]),
                    Route("/timeline", page(self._timeline), methods=["GET"]),
                    Route("/{path:path}", self._unknown),
                ],
            ),
        ]

    def _render(
        self,
        name: str,
        status: int = 200,
        session: ConsoleSession | None = None,
        **context: Any,
    ) -> Response:
        template = self._templates.get_template(name)
        html = template.render(session=session, csrf_field=CSRF_FIELD, **context)
        return HTMLResponse(html, status_code=status, headers=_HEADERS)

    @staticmethod
    def _redirect(path: str, **query: str) -> Response:
        target = PREFIX + path + (f"?{urlencode(query)}" if query else "")
        return RedirectResponse(target, status_code=303, headers=_HEADERS)

    @staticmethod
    def _caller(session: ConsoleSession) -> Caller:
        return Caller(session.account_id, session.access_key_id, f"console-{uuid.uuid4()}")

    async def _call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await run_in_threadpool(partial(function, *args, **kwargs))

    async def _session_of(self, request: Request) -> ConsoleSession | None:
        return await self._call(self._services.sessions.resume, session_id_of(request))

    def _failed(self, error: PicaError, session: ConsoleSession) -> Response:
        return self._render(
            "error.html", _status_of(error), session, title="Not done", message=error.message
        )

    def _page(self, handler: Page) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            session = await self._session_of(request)
            if session is None:
                return self._redirect("/sign-in")
            try:
                return await handler(request, session)
            except PicaError as error:
                return self._failed(error, session)

        return run

    def _action(self, handler: Action) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            session = await self._session_of(request)
            if session is None:
                return self._redirect("/sign-in")
            try:
                form = await read_form(request)
            except (FormRefused, BodyTooLarge, BodyIncomplete) as error:
                message = str(error) or "The form could not be read."
                return self._render("error.html", 400, session, title="Refused", message=message)
            if not same_origin(request) or not csrf_matches(session, form.get(CSRF_FIELD)):
                return self._render(
                    "error.html",
                    403,
                    session,
                    title="Refused",
                    message="The form's CSRF token is missing or wrong: nothing was changed. "
                    "Reload the page and try again.",
                )
            try:
                return await handler(request, session, form)
            except PicaError as error:
                return self._failed(error, session)

        return run

    # --- signing in and out -----------------------------------------------------------------

    async def _root(self, request: Request) -> Response:
        session = await self._session_of(request)
        return self._redirect("/cas" if session is not None else "/sign-in")

    async def _unknown(self, request: Request) -> Response:
        session = await self._session_of(request)
        message = f"{request.method} {request.url.path} is not a page of this console."
        return self._render("error.html", 404, session, title="No such page", message=message)

    async def _stylesheet(self, request: Request) -> Response:
        return Response(self._css, media_type="text/css", headers={"Cache-Control": "max-age=300"})

    async def _sign_in_form(self, request: Request) -> Response:
        if await self._session_of(request) is not None:
            return self._redirect("/cas")
        return self._render("sign_in.html")

    async def _sign_in(self, request: Request) -> Response:
        source = request.client.host if request.client is not None else "-"
        if not self._limit.allow(source):
            return self._render(
                "sign_in.html", 429, error="Too many sign-in attempts: wait a minute."
            )
        try:
            form = await read_form(request)
        except (FormRefused, BodyTooLarge, BodyIncomplete):
            return self._render("sign_in.html", 400, error=INVALID_SIGN_IN)
        if not same_origin(request):
            return self._render("sign_in.html", 403, error="Sign in from this console's page.")
        key_id = form.get("access_key_id", "").strip()
        signed_in = await self._call(
            self._services.sessions.sign_in,
            key_id,
            form.get("secret_access_key", ""),
            f"console-{uuid.uuid4()}",
        )
        if signed_in is None:
            return self._render("sign_in.html", 401, error=INVALID_SIGN_IN, access_key_id=key_id)
        response = self._redirect("/cas")
        seconds = int(self._services.sessions.lifetime.total_seconds())
        set_session_cookie(response, request, signed_in.session_id, seconds)
        return response

    async def _sign_out(
        self, request: Request, session: ConsoleSession, form: dict[str, str]
    ) -> Response:
        await self._call(self._services.sessions.sign_out, session, f"console-{uuid.uuid4()}")
        response = self._redirect("/sign-in")
        clear_session_cookie(response, request)
        return response

    # --- certificate authorities ------------------------------------------------------------

    async def _cas(self, request: Request, session: ConsoleSession) -> Response:
        caller = self._caller(session)
        own = await self._call(self._services.inventory.cas, caller)
        shared = await self._call(self._services.inventory.cas, caller, shared=True)
        return self._render("cas.html", session=session, own=own, shared=shared)

    async def _create_form(self, request: Request, session: ConsoleSession) -> Response:
        return self._render("create_ca.html", session=session, key_algorithms=KEY_ALGORITHMS)

    async def _create(
        self, request: Request, session: ConsoleSession, form: dict[str, str]
    ) -> Response:
        try:
            created = await self._call(
                create_ca,
                self._api,
                self._caller(session),
                form.get("common_name", ""),
                form.get("key_algorithm", ""),
                form.get("ca_type", "ROOT"),
            )
        except PicaError as error:
            return self._render(
                "create_ca.html",
                _status_of(error),
                session,
                key_algorithms=KEY_ALGORITHMS,
                error=error.message,
                form=form,
            )
        if created.csr_pem is not None:
            return self._render("csr.html", session=session, arn=created.arn, csr=created.csr_pem)
        return self._redirect("/ca", arn=created.arn)

    async def _ca(self, request: Request, session: ConsoleSession) -> Response:
        arn = request.query_params.get("arn", "")
        caller = self._caller(session)
        ca = await self._call(self._api.authorities.describe, caller, arn)
        certificates = await self._call(self._services.inventory.certificates, caller, arn)
        crl = await self._call(self._services.inventory.crl_state, caller, arn)
        return self._render(
            "ca.html",
            session=session,
            ca=ca,
            ca_status=ca.effective_status(self._api.clock.now()),
            certificates=certificates,
            crl=crl,
            owned=ca.account_id == session.account_id,
            notice=request.query_params.get("notice"),
        )

    async def _ca_certificate(self, request: Request, session: ConsoleSession) -> Response:
        arn = request.query_params.get("arn", "")
        pem, chain = await self._call(
            self._api.authorities.get_ca_certificate, self._caller(session), arn
        )
        return _pem_download(pem + (chain or ""), f"ca-{arn.rsplit('/', 1)[-1]}.pem")

    async def _import(
        self, request: Request, session: ConsoleSession, form: dict[str, str]
    ) -> Response:
        """ImportCertificateAuthorityCertificate: a subordinate's certificate from its parent."""
        arn = form.get("arn", "")
        chain = form.get("chain", "").strip()
        await self._call(
            self._api.authorities.import_certificate,
            self._caller(session),
            arn,
            form.get("certificate", "").strip().encode(),
            chain.encode() if chain else None,
        )
        return self._redirect("/ca", arn=arn, notice="The CA certificate is imported.")

    async def _state_form(self, request: Request, session: ConsoleSession) -> Response:
        arn = request.query_params.get("arn", "")
        change = request.query_params.get("change", "")
        if change not in _STATE_ACTIONS:
            return self._render(
                "error.html", 400, session, title="Not done", message="No such change."
            )
        ca = await self._call(self._api.authorities.describe, self._caller(session), arn)
        return self._render("confirm_state.html", session=session, ca=ca, change=change)

    async def _state(
        self, request: Request, session: ConsoleSession, form: dict[str, str]
    ) -> Response:
        arn, change = form.get("arn", ""), form.get("change", "")
        if change not in _STATE_ACTIONS:
            return self._render(
                "error.html", 400, session, title="Not done", message="No such change."
            )
        caller = self._caller(session)
        status = _STATE_ACTIONS[change]
        if status is None:
            await self._call(self._api.authorities.delete, caller, arn, DELETE_RESTORE_DAYS)
            return self._redirect("/cas")
        await self._call(self._api.authorities.update, caller, arn, status, None)
        return self._redirect("/ca", arn=arn, notice=f"The CA is now {status}.")

    # --- revocation -------------------------------------------------------------------------

    async def _revoke_form(self, request: Request, session: ConsoleSession) -> Response:
        ca_arn = request.query_params.get("ca", "")
        serial = request.query_params.get("serial", "")
        ca = await self._call(self._api.authorities.describe, self._caller(session), ca_arn)
        reasons = [reason.value for reason in RevocationReason]
        return self._render("revoke.html", session=session, ca=ca, serial=serial, reasons=reasons)

    async def _revoke(
        self, request: Request, session: ConsoleSession, form: dict[str, str]
    ) -> Response:
        ca_arn, serial = form.get("ca_arn", ""), form.get("serial", "")
        reason = next((r for r in RevocationReason if r.value == form.get("reason")), None)
        if reason is None:
            return self._render(
                "error.html", 400, session, title="Not done", message="Choose a revocation reason."
            )
        await self._call(self._api.revocation.revoke, self._caller(session), ca_arn, serial, reason)
        return self._redirect("/ca", arn=ca_arn, notice=f"Certificate {serial} is revoked.")

    # --- ACM certificates -------------------------------------------------------------------

    async def _request_form(self, request: Request, session: ConsoleSession) -> Response:
        caller = self._caller(session)
        own = await self._call(self._services.inventory.cas, caller)
        shared = await self._call(self._services.inventory.cas, caller, shared=True)
        now = self._api.clock.now()
        issuers = [ca for ca in own + shared if ca.effective_status(now) is CaStatus.ACTIVE]
        # Every key type (ListCertificates' default filter leaves some out), newest first.
        everything = ListFilter(key_types=tuple(AcmKeyAlgorithm), descending=True)
        listed = await self._call(
            self._services.acm.certificates.list_certificates,
            caller,
            everything,
            ACM_LISTED,
            None,
        )
        return self._render(
            "request.html",
            session=session,
            issuers=issuers,
            chosen=request.query_params.get("ca"),
            acm_certificates=listed.items,
        )

    async def _request(
        self, request: Request, session: ConsoleSession, form: dict[str, str]
    ) -> Response:
        arn = await self._call(
            self._services.acm.certificates.request,
            self._caller(session),
            CertificateRequest(
                domain_name=form.get("domain_name", "").strip(),
                ca_arn=form.get("ca_arn") or None,
            ),
        )
        return self._redirect("/certificate", arn=arn)

    async def _certificate(self, request: Request, session: ConsoleSession) -> Response:
        arn = request.query_params.get("arn", "")
        certificate = await self._call(
            self._services.acm.certificates.describe, self._caller(session), arn
        )
        return self._render("certificate.html", session=session, certificate=certificate)

    async def _download(self, request: Request, session: ConsoleSession) -> Response:
        arn = request.query_params.get("arn", "")
        pem, chain = await self._call(
            self._services.acm.certificates.get, self._caller(session), arn
        )
        return _pem_download(pem + (chain or ""), f"{arn.rsplit('/', 1)[-1]}.pem")

    async def _export(
        self, request: Request, session: ConsoleSession, form: dict[str, str]
    ) -> Response:
        arn = form.get("arn", "")
        passphrase = form.get("passphrase", "")
        if len(passphrase) < 4:
            return self._render(
                "error.html",
                400,
                session,
                title="Not done",
                message="The passphrase must be at least 4 characters long.",
            )
        exported = await self._call(
            self._services.acm.certificates.export,
            self._caller(session),
            arn,
            passphrase.encode(),
        )
        text = exported.certificate + (exported.chain or "") + exported.private_key
        return _pem_download(text, f"{arn.rsplit('/', 1)[-1]}-with-key.pem")

    # --- finding things ---------------------------------------------------------------------

    async def _search(self, request: Request, session: ConsoleSession) -> Response:
        text = request.query_params.get("q", "").strip()
        found = (
            await self._call(self._services.inventory.search, self._caller(session), text)
            if text
            else []
        )
        return self._render("search.html", session=session, query=text, found=found)

    async def _timeline(self, request: Request, session: ConsoleSession) -> Response:
        entries = await self._call(self._services.inventory.timeline, self._caller(session))
        return self._render("timeline.html", session=session, entries=entries)


def _pem_download(text: str, filename: str) -> Response:
    headers = {**_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(text, media_type="application/x-pem-file", headers=headers)
