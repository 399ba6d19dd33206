"""Smithy RPC v2 CBOR: the second wire protocol of the acm-pca model, beside AWS JSON 1.1.

botocore 1.44's acm-pca model lists `smithy-rpc-v2-cbor` first, so SDKs generated from the
Smithy model may send `POST /service/ACMPrivateCA/operation/<Operation>` with a CBOR body and
`smithy-protocol: rpc-v2-cbor` at any release. The protocols differ only in how the same
shapes travel, so this module only translates: a CBOR request becomes exactly the Python value
the JSON parser would have produced (byte strings become base64 text, tag-1 timestamps become
epoch seconds), and a handler's JSON-shaped result becomes CBOR (base64 blobs become byte
strings, epoch seconds become tag 1). Validation, dispatch and the handlers are the JSON ones.

The translation is guided by the model's shapes, so a byte string is accepted only where the
model has a blob; anything CBOR can express but JSON cannot (tags, undefined, non-text map keys)
outside those places is a SerializationException, as an unreadable JSON body is.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any, Final

import cbor2
from botocore.model import ServiceModel, Shape
from starlette.responses import Response

from pica.wire.awsjson.validation import SERIALIZATION_EXCEPTION, RequestValidationError

CONTENT_TYPE: Final = "application/cbor"
PROTOCOL: Final = "rpcv2Cbor"
PROTOCOL_HEADER: Final = "smithy-protocol"
PROTOCOL_VALUE: Final = "rpc-v2-cbor"
# The Smithy namespace of the acm-pca service's shapes: errors name their full shape ID.
ERROR_NAMESPACE: Final = "com.amazonaws.acmpca"
_PATH: Final = re.compile(r"/service/([^/]+)/operation/([^/]+)")


def operation_from_path(path: str) -> tuple[str, str] | None:
    """(service name, operation name) of `/service/<Service>/operation/<Operation>`."""
    match = _PATH.fullmatch(path)
    return None if match is None else (match.group(1), match.group(2))


def _bad(message: str) -> RequestValidationError:
    return RequestValidationError(SERIALIZATION_EXCEPTION, f"The request body is {message}")


def decode(body: bytes) -> Any:
    """The one CBOR data item a body holds (an empty body is an empty input structure).

    cbor2 itself bounds nesting (its decoder refuses containers deeper than a few hundred);
    bytes after the item are refused rather than ignored.
    """
    if not body:
        return {}
    stream = io.BytesIO(body)
    try:
        value = cbor2.CBORDecoder(stream).decode()
    except (cbor2.CBORError, ValueError, OverflowError, RecursionError, TypeError) as exc:
        raise _bad(f"not valid CBOR: {exc}") from None
    if stream.tell() != len(body):
        raise _bad(f"not valid CBOR: {len(body) - stream.tell()} bytes follow the data item")
    return value


def _plain(value: Any, path: str) -> Any:
    """A value outside any modelled member: only what JSON could also have carried."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_plain(v, path) for v in value]
    if isinstance(value, dict):
        return {_key(k, path): _plain(v, path) for k, v in value.items()}
    raise _bad(f"not readable: a CBOR {type(value).__name__} at '{path or '/'}'")


def _key(key: Any, path: str) -> str:
    if not isinstance(key, str):
        raise _bad(f"not readable: a map key that is not a text string at '{path or '/'}'")
    return key


def _epoch(moment: dt.datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def to_json_shapes(shape: Shape | None, value: Any, path: str = "") -> Any:
    """The request value as the JSON parser gives it, checked against the CBOR types."""
    if value is None or shape is None:
        return _plain(value, path)
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        result: dict[str, Any] = {}
        for key, item in value.items():
            name = _key(key, path)
            result[name] = to_json_shapes(members.get(name), item, f"{path}/{name}")
        return result
    if kind == "list" and isinstance(value, list):
        member = shape.member
        return [to_json_shapes(member, item, path) for item in value]
    if kind == "map" and isinstance(value, dict):
        target = shape.value
        return {_key(k, path): to_json_shapes(target, v, path) for k, v in value.items()}
    if kind == "blob":
        if not isinstance(value, bytes):
            raise _bad(f"not readable: a blob must be a CBOR byte string at '{path}'")
        return base64.b64encode(value).decode("ascii")
    if kind == "timestamp" and isinstance(value, dt.datetime):
        return _epoch(value)
    # A type mismatch is left for the validator, which names it as the JSON path does.
    return _plain(value, path)


def from_json_shapes(shape: Shape | None, value: Any) -> Any:
    """A handler's JSON-shaped result with blobs as byte strings and timestamps as tag 1."""
    if value is None or shape is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        return {k: from_json_shapes(members.get(k), v) for k, v in value.items() if v is not None}
    if kind == "list" and isinstance(value, list):
        member = shape.member
        return [from_json_shapes(member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        target = shape.value
        return {k: from_json_shapes(target, v) for k, v in value.items()}
    if kind == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    if kind == "timestamp" and isinstance(value, int | float):
        return cbor2.CBORTag(1, float(value))
    return value


class CborCodec:
    """Request and response translation for one service model's operations."""

    def __init__(self, model: ServiceModel) -> None:
        self._model = model
        self._names = frozenset(model.operation_names)

    def _shape(self, operation: str, pick: Callable[[Any], Shape | None]) -> Shape | None:
        if operation not in self._names:
            return None
        return pick(self._model.operation_model(operation))

    def has_output(self, operation: str) -> bool:
        return self._shape(operation, lambda op: op.output_shape) is not None

    def request(self, operation: str, body: bytes) -> Any:
        """The request as JSON shapes; RequestValidationError for what cannot be read."""
        value = decode(body)
        if not isinstance(value, dict):
            return _plain(value, "")  # the validator names a non-structure body
        return to_json_shapes(self._shape(operation, lambda op: op.input_shape), value)

    def result(self, operation: str, result: dict[str, Any]) -> bytes:
        if not self.has_output(operation):
            return b""
        shape = self._shape(operation, lambda op: op.output_shape)
        return cbor2.dumps(from_json_shapes(shape, result))


def cbor_response(
    status: int, body: bytes | dict[str, Any], request_id: str, error: str | None = None
) -> Response:
    """An RPC v2 CBOR response: `smithy-protocol` always, Content-Type only with a body."""
    headers = {"x-amzn-RequestId": request_id, PROTOCOL_HEADER: PROTOCOL_VALUE}
    if error is not None:
        headers["x-amzn-ErrorType"] = error
    payload = cbor2.dumps(body) if isinstance(body, dict) else body
    return Response(
        payload,
        status_code=status,
        media_type=CONTENT_TYPE if payload else None,
        headers=headers,
    )


def cbor_error(status: int, code: str, message: str, request_id: str) -> Response:
    """Errors name their full Smithy shape ID in `__type`; clients keep the part after `#`."""
    body = {"__type": f"{ERROR_NAMESPACE}#{code}", "message": message}
    return cbor_response(status, body, request_id, error=code)
