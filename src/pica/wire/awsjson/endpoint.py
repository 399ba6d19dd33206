"""The AWS JSON 1.1 endpoint: `POST /` with `X-Amz-Target`, SigV4, model validation, dispatch.

Order of checks per request: body size, signature, operation, throttling (when on), JSON, model
constraints, then the handler. Every failure is a JSON error with `__type` and `message`; an
unexpected exception is logged with the request id and answered as 500 InternalFailure (always a
bug).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pica.authority.ca_access import AUDITED_ACTIONS, Caller
from pica.errors import PicaError
from pica.wire.api_call import ApiCall, ApiCallObserver
from pica.wire.awsjson.dispatch import DISPATCH
from pica.wire.awsjson.errors import code_for
from pica.wire.awsjson.handlers import ApiServices, RequestContext
from pica.wire.awsjson.served_api import ServedApi
from pica.wire.awsjson.sigv4 import AuthenticationError, SigV4Verifier
from pica.wire.awsjson.validation import RequestValidationError, RequestValidator
from pica.wire.body import BodyIncomplete, BodyTooLarge, read_limited
from pica.wire.throttling import RATE_EXCEEDED, THROTTLING, Throttle

log = logging.getLogger("pica.api")

CONTENT_TYPE = "application/x-amz-json-1.1"
PROTOCOL = "awsJson1_1"
# The deepest request the acm-pca model allows nests about ten values (IssueCertificate >
# ApiPassthrough > Extensions > SubjectAlternativeNames > [] > DirectoryName > CustomAttributes
# > [] > {}); a body nested deeper carries members no operation reads.
MAX_JSON_DEPTH = 32


class TooDeep(ValueError):
    """A JSON body nested deeper than MAX_JSON_DEPTH."""

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        super().__init__(f"nested more than {limit} levels deep")


def check_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise TooDeep when `value` nests containers more than `limit` deep.

    Iterative on purpose: every later step (validation, null removal, the handlers) may then
    recurse freely, and an unknown member nested thousands deep — which validation ignores,
    as AWS ignores unknown members — cannot exhaust the stack.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > limit:
            raise TooDeep(limit)
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)


def without_nulls(value: Any) -> Any:
    """The request with every null-valued member removed, at any depth."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def json_response(
    status: int, body: dict[str, Any], request_id: str, error: str | None = None
) -> Response:
    headers = {"x-amzn-RequestId": request_id}
    if error is not None:
        headers["x-amzn-ErrorType"] = error
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type=CONTENT_TYPE,
        headers=headers,
    )


def error_response(status: int, code: str, message: str, request_id: str) -> Response:
    return json_response(status, {"__type": code, "message": message}, request_id, error=code)


class AwsJsonEndpoint:
    def __init__(
        self,
        services: ApiServices,
        validator: RequestValidator,
        verifier: SigV4Verifier,
        *,
        max_body: int,
        observers: Sequence[ApiCallObserver] = (),
        other_apis: Sequence[ServedApi] = (),
        throttle: Throttle | None = None,
    ) -> None:
        self._services = services
        self._throttle = throttle
        self._max_body = max_body
        self._observers = tuple(observers)
        # ACM Private CA answers every target no other served API's prefix claims.
        self._default_api = ServedApi(
            "ACMPrivateCA.",
            "ACM Private CA",
            DISPATCH,
            validator,
            verifier,
            lambda caller: RequestContext(caller, services),
            code_for,
        )
        self._other_apis = tuple(other_apis)

    def _api_for(self, target: str) -> ServedApi:
        for api in self._other_apis:
            if target.startswith(api.target_prefix):
                return api
        return self._default_api

    async def handle(self, request: Request) -> Response:
        call = ApiCall(str(uuid.uuid4()), PROTOCOL)
        response = await self._answer(request, call)
        call.finish(response.status_code, response.headers.get("x-amzn-ErrorType"), self._observers)
        return response

    async def _answer(self, request: Request, call: ApiCall) -> Response:
        request_id = call.request_id
        try:
            return await self._handle(request, call)
        except BodyTooLarge:
            return error_response(
                413,
                "RequestEntityTooLargeException",
                f"The request body exceeds the limit of {self._max_body} bytes.",
                request_id,
            )
        except BodyIncomplete:
            log.debug("client left before sending its whole body (request id %s)", request_id)
            return Response(status_code=400)
        except Exception:
            log.exception("internal failure (request id %s)", request_id)
            return error_response(
                500,
                "InternalFailure",
                f"The request processing has failed because of an unknown error (request id "
                f"{request_id}).",
                request_id,
            )

    async def _handle(self, request: Request, call: ApiCall) -> Response:
        request_id = call.request_id
        target = request.headers.get("x-amz-target", "")
        api = self._api_for(target)
        entry = api.dispatch.get(target)
        if entry is not None:
            call.operation = entry[0]
        body = await read_limited(request, self._max_body)
        try:
            verified = api.verifier.verify(
                request.method,
                request.scope.get("raw_path", b"/").decode("latin-1"),
                request.scope.get("query_string", b"").decode("latin-1"),
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
                body,
            )
        except AuthenticationError as exc:
            return error_response(exc.status, exc.code, exc.message, request_id)
        call.note_caller(verified.account_id, verified.access_key_id)

        if entry is None:
            return error_response(
                400,
                "UnknownOperationException",
                f"The operation {target or '(missing X-Amz-Target)'} is not an {api.title} "
                "operation.",
                request_id,
            )
        operation, handler = entry
        if self._throttle is not None and not await self._throttle.admit(
            api.target_prefix, verified.account_id, operation
        ):
            return error_response(400, THROTTLING, RATE_EXCEEDED, request_id)

        try:
            params = json.loads(body.decode("utf-8")) if body.strip() else {}
            check_depth(params)
        except RecursionError:
            # Absurd nesting trips the C parser's own recursion guard, so the parse is bounded.
            return error_response(
                400, "SerializationException", f"The request body is {TooDeep()}", request_id
            )
        except ValueError as exc:
            # TooDeep; JSONDecodeError and UnicodeDecodeError, and an integer literal beyond
            # Python's digit limit.
            message = str(exc) if isinstance(exc, TooDeep) else f"not valid JSON: {exc}"
            return error_response(
                400, "SerializationException", f"The request body is {message}", request_id
            )
        caller = Caller(verified.account_id, verified.access_key_id, request_id)
        try:
            api.validator.validate(operation, params)
        except RequestValidationError as exc:
            if api is self._default_api:
                await self._record_refusal(caller, operation, params, exc.code)
            return error_response(400, exc.code, exc.message, request_id)
        call.note_parameters(params)

        if handler is None:
            return error_response(
                501,
                "NotImplementedException",
                f"pica does not implement the operation {operation} yet.",
                request_id,
            )
        context = api.context(caller)
        # botocore (and AWS) treat a JSON null as an absent member; so do the handlers.
        params = without_nulls(params)
        try:
            result = await run_in_threadpool(handler, context, params)
        except PicaError as exc:
            call.error = exc
            code = api.code_for(exc)
            if api is self._default_api:
                await self._record_refusal(caller, operation, params, code)
            return error_response(400, code, exc.message, request_id)
        call.note_result(result)
        return json_response(200, result, request_id)

    async def _record_refusal(self, caller: Caller, operation: str, params: Any, code: str) -> None:
        """The audit trail records refused administrative actions and key uses too (their own
        transaction rolled back). A failure to record is logged, never the caller's problem."""
        if operation not in AUDITED_ACTIONS:
            return
        resource = None
        if isinstance(params, dict):
            value = params.get("CertificateAuthorityArn", params.get("ResourceArn"))
            resource = value if isinstance(value, str) else None
        try:
            await run_in_threadpool(
                self._services.audit_trail.record_refusal, caller, operation, resource, code
            )
        except Exception:
            log.exception(
                "recording a refusal in the audit trail failed (request id %s)", caller.request_id
            )
