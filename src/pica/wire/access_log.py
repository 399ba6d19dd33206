"""The access log: one structured line per API call on the `pica.access` logger (INFO).

Two formats, chosen by the `access_log` setting: JSON lines (one object per line, for log
shippers) and logfmt (`key=value`, for people reading a terminal). Both carry the same fields,
in the same order, from `pica.wire.api_call.ApiCall`: time, request id, account, access key id,
operation, CA ARN, certificate ARN or serial where the call names one, status, error code and
duration. A field the call did not reach (no caller before the signature verified) is left out.

Values that came from a request (ARNs, serials) were checked against the acm-pca model before
they are recorded; logfmt still quotes and escapes anything but plain characters, so no value
can forge a field or a line.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from pica.wire.api_call import ApiCall

FORMATS = ("json", "logfmt", "off")

log = logging.getLogger("pica.access")

_PLAIN = re.compile(r"[A-Za-z0-9_.:/@+-]+")


def access_fields(call: ApiCall) -> dict[str, Any]:
    """The line's fields, in order; None-valued ones are dropped."""
    fields: dict[str, Any] = {
        "time": call.started_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "request_id": call.request_id,
        "account": call.account_id,
        "access_key_id": call.access_key_id,
        "operation": call.operation,
        "ca_arn": call.ca_arn,
        "certificate_arn": call.certificate_arn,
        "serial": call.serial,
        "status": call.status,
        "error": call.error_code,
        "duration_ms": round(call.duration * 1000, 3),
    }
    return {name: value for name, value in fields.items() if value is not None}


def json_line(call: ApiCall) -> str:
    return json.dumps(access_fields(call), separators=(",", ":"))


def logfmt_line(call: ApiCall) -> str:
    return " ".join(f"{name}={_logfmt_value(value)}" for name, value in access_fields(call).items())


def _logfmt_value(value: Any) -> str:
    text = str(value)
    if _PLAIN.fullmatch(text):
        return text
    return json.dumps(text)  # quoted, with quotes, backslashes and control characters escaped


class AccessLog:
    """An `ApiCallObserver` writing each call as one line in the chosen format."""

    def __init__(self, format: str) -> None:
        if format not in ("json", "logfmt"):
            raise ValueError(f"access log format must be json or logfmt, not {format!r}")
        self._render = json_line if format == "json" else logfmt_line

    def api_call(self, call: ApiCall) -> None:
        if log.isEnabledFor(logging.INFO):
            log.info(self._render(call))
