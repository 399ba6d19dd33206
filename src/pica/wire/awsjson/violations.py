"""Constraint violations collected during one validation, and Coral's message for them.

AWS (Coral) lists every violation in one ValidationException, e.g. ``1 validation error
detected: Value 'X' at 'signingAlgorithm' failed to satisfy constraint: ...``; values are
rendered the way Java renders them.
"""

from __future__ import annotations

from typing import Final

# Coral lists every violation; a cap keeps a hostile request from producing a huge message
# while the count in the header stays truthful.
MAX_LISTED_VIOLATIONS: Final = 10

# Values nested deeper than this are elided when rendered into a message, so rendering can
# never recurse without bound on an adversarial body.
_MAX_RENDER_DEPTH: Final = 4


class ByteBuffer:
    """Stands in for a decoded blob when a constraint message has to show its value.

    Coral renders a blob member with Java's ``ByteBuffer.toString()``, never with its content;
    doing the same keeps a 2 MiB certificate chain out of an error message.
    """

    __slots__ = ("length",)

    def __init__(self, length: int) -> None:
        self.length = length

    def __str__(self) -> str:
        return f"java.nio.HeapByteBuffer[pos=0 lim={self.length} cap={self.length}]"


def _render_inner(value: object, depth: int) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        if depth >= _MAX_RENDER_DEPTH:
            return "[...]"
        return "[" + ", ".join(_render_inner(item, depth + 1) for item in value) + "]"
    if isinstance(value, dict):
        if depth >= _MAX_RENDER_DEPTH:
            return "{...}"
        items = (f"{key}={_render_inner(item, depth + 1)}" for key, item in value.items())
        return "{" + ", ".join(items) + "}"
    return str(value)


def _render(value: object) -> str:
    """Render a value the way Coral does in ``Value ... at '...'``: quoted, but ``null`` bare."""
    if value is None:
        return "null"
    return f"'{_render_inner(value, 0)}'"


class Violations:
    """Collects constraint violations during one validation and formats Coral's message."""

    __slots__ = ("count", "listed")

    def __init__(self) -> None:
        self.count = 0
        self.listed: list[str] = []

    def add(self, value: object, path: str, constraint: str) -> None:
        self.count += 1
        if self.count <= MAX_LISTED_VIOLATIONS:
            self.listed.append(
                f"Value {_render(value)} at '{path}' failed to satisfy constraint: {constraint}"
            )

    def message(self) -> str:
        noun = "error" if self.count == 1 else "errors"
        return f"{self.count} validation {noun} detected: " + "; ".join(self.listed)
