"""The AWS JSON 1.1 endpoint: `POST /` with `X-Amz-Target`, SigV4, model validation, dispatch.

The same request flow serves Smithy RPC v2 CBOR (`POST /service/ACMPrivateCA/operation/<Op>`):
only finding the operation, reading the body and writing the answer differ, and those steps ask
`rpcv2cbor` when the request came that way; validation, throttling and handlers are shared.

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

from starlette.requests import Request
from starlette.responses import Response

from pica.authority.ca_access import AUDITED_ACTIONS, Caller
from pica.errors import PicaError, Sealed
from pica.wire.api_call import ApiCall, ApiCallObserver
from pica.wire.awsjson.dispatch import DISPATCH, STEPPED, TARGET_PREFIX
from pica.wire.awsjson.errors import SERVICE_UNAVAILABLE, code_for, status_for
from pica.wire.awsjson.handlers import ApiServices, RequestContext
from pica.wire.awsjson.rpcv2cbor import (
    PROTOCOL_HEADER,
    PROTOCOL_VALUE,
    CborCodec,
    cbor_error,
    cbor_response,
    operation_from_path,
)
from pica.wire.awsjson.served_api import ServedApi
from pica.wire.awsjson.service_model import load_service_model
from pica.wire.awsjson.sigv4 import AuthenticationError, SigV4Verifier
from pica.wire.awsjson.validation import RequestValidationError, RequestValidator
from pica.wire.blocking import run_blocking
from pica.wire.body import BodyIncomplete, BodyTooLarge, read_limited
from pica.wire.throttling import RATE_EXCEEDED, THROTTLING, Throttle
from pica.wire.write_turns import UntilWritable, drive_steps

log = logging.getLogger("pica.api")

CONTENT_TYPE = "application/x-amz-json-1.1"
PROTOCOL = "awsJson1_1"
CBOR_PROTOCOL = "rpcv2Cbor"
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


_json_error = error_response


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
        inline_targets: frozenset[str] = frozenset(),
        until_writable: UntilWritable | None = None,
    ) -> None:
        self._services = services
        # Targets whose handler runs on the event loop, without the thread hop (`pica.wire.inline`).
        self._inline_targets = inline_targets
        # With inline targets: what a stepped handler awaits at a write turn.
        self._until_writable = until_writable
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
        # Only acm-pca's model lists RPC v2 CBOR (botocore's acm model lists JSON alone).
        self._cbor = CborCodec(load_service_model())
        self._cbor_service = TARGET_PREFIX.rstrip(".")

    def _api_for(self, target: str) -> ServedApi:
        for api in self._other_apis:
            if target.startswith(api.target_prefix):
                return api
        return self._default_api

    async def handle(self, request: Request) -> Response:
        """An AWS JSON 1.1 request (`POST /`)."""
        return await self._handle_as(request, None)

    async def handle_cbor(self, request: Request) -> Response:
        """An RPC v2 CBOR request (`POST /service/<Service>/operation/<Operation>`)."""
        return await self._handle_as(request, self._cbor)

    async def _handle_as(self, request: Request, cbor: CborCodec | None) -> Response:
        call = ApiCall(str(uuid.uuid4()), PROTOCOL if cbor is None else CBOR_PROTOCOL)
        response = await self._answer(request, call, cbor)
        call.finish(response.status_code, response.headers.get("x-amzn-ErrorType"), self._observers)
        return response

    async def _answer(self, request: Request, call: ApiCall, cbor: CborCodec | None) -> Response:
        request_id = call.request_id
        error_response = _json_error if cbor is None else cbor_error
        try:
            return await self._handle(request, call, cbor)
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

    async def _handle(self, request: Request, call: ApiCall, cbor: CborCodec | None) -> Response:
        request_id = call.request_id
        error_response = _json_error if cbor is None else cbor_error
        if cbor is None:
            target = request.headers.get("x-amz-target", "")
        else:
            found = operation_from_path(request.url.path)
            if found is None or found[0] != self._cbor_service:
                return error_response(
                    404,
                    "UnknownOperationException",
                    f"{request.url.path} is not an ACM Private CA operation; RPC v2 CBOR calls "
                    f"are POST /service/{self._cbor_service}/operation/<Operation>.",
                    request_id,
                )
            target = f"{TARGET_PREFIX}{found[1]}"
        api = self._api_for(target) if cbor is None else self._default_api
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
                operation_in_path=cbor is not None,
            )
        except AuthenticationError as exc:
            return error_response(exc.status, exc.code, exc.message, request_id)
        except Sealed as exc:  # an access key sealed under a protected KEK (mid-protect)
            return error_response(503, SERVICE_UNAVAILABLE, exc.message, request_id)
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
        if cbor is not None and request.headers.get(PROTOCOL_HEADER) != PROTOCOL_VALUE:
            return error_response(
                400,
                "SerializationException",
                f"RPC v2 CBOR requests carry the header {PROTOCOL_HEADER}: {PROTOCOL_VALUE}.",
                request_id,
            )
        if self._throttle is not None and not await self._throttle.admit(
            api.target_prefix, verified.account_id, operation
        ):
            return error_response(400, THROTTLING, RATE_EXCEEDED, request_id)

        try:
            if cbor is None:
                params = json.loads(body.decode("utf-8")) if body.strip() else {}
            else:
                params = cbor.request(operation, body)
            check_depth(params)
        except RequestValidationError as exc:
            return error_response(400, exc.code, exc.message, request_id)
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
            if target in self._inline_targets:
                stepped = STEPPED.get(target)
                if stepped is not None and self._until_writable is not None:
                    result = await drive_steps(stepped(context, params), self._until_writable)
                else:
                    result = handler(context, params)
            else:
                result = await run_blocking(handler, context, params)
        except PicaError as exc:
            call.error = exc
            code = api.code_for(exc)
            if api is self._default_api:
                await self._record_refusal(caller, operation, params, code)
            return error_response(status_for(exc), code, exc.message, request_id)
        call.note_result(result)
        if cbor is None:
            return json_response(200, result, request_id)
        return cbor_response(200, cbor.result(operation, result), request_id)

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
            await run_blocking(
                self._services.audit_trail.record_refusal, caller, operation, resource, code
            )
        except Exception:
            log.exception(
                "recording a refusal in the audit trail failed (request id %s)", caller.request_id
            )
