"""The IAM condition operators a CA's resource policy may use, and how each one matches.

A condition block is `{"<Operator>": {"<key>": "<value>" | ["<value>", ...]}}`. Each operator
may carry the `IfExists` suffix (a key absent from the request then matches). As in IAM, a key
absent from the request makes a positive operator false and a negated one true; several values
for one key match when any of them does (negated: when none does); every key and every operator
of a block must match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

Matcher = Callable[[str, str], bool]


@lru_cache(maxsize=1024)
def _glob(pattern: str) -> re.Pattern[str]:
    """IAM wildcards: `*` any run of characters, `?` one character; nothing else is special."""
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
        re.DOTALL,
    )


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    if ignore_case:
        return _glob(pattern.lower()).fullmatch(value.lower()) is not None
    return _glob(pattern).fullmatch(value) is not None


def _arn_like(pattern: str, value: str) -> bool:
    """ArnLike: the six colon-separated parts match one by one (a `*` never crosses a colon
    in the first five; the resource part takes the rest)."""
    pattern_parts = pattern.split(":", 5)
    value_parts = value.split(":", 5)
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        return False
    return all(glob_match(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))


_BASE: dict[str, tuple[Matcher, bool]] = {
    # operator: (value matcher, negated)
    "StringEquals": (lambda p, v: p == v, False),
    "StringNotEquals": (lambda p, v: p == v, True),
    "StringEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), True),
    "StringLike": (glob_match, False),
    "StringNotLike": (glob_match, True),
    "ArnEquals": (lambda p, v: p == v, False),
    "ArnNotEquals": (lambda p, v: p == v, True),
    "ArnLike": (_arn_like, False),
    "ArnNotLike": (_arn_like, True),
}

OPERATORS = frozenset(_BASE) | {f"{name}IfExists" for name in _BASE} | {"Null"}


@dataclass(frozen=True)
class Condition:
    """One operator applied to one key with its values (already checked to be strings)."""

    operator: str
    key: str
    values: tuple[str, ...]

    def matches(self, context: Mapping[str, str]) -> bool:
        # Condition keys are case-insensitive in IAM.
        value = context.get(self.key.lower())
        if self.operator == "Null":
            # "Null": "true" asks for an absent key, "false" for a present one.
            return any((value is None) == (v.lower() == "true") for v in self.values)
        base = self.operator.removesuffix("IfExists")
        matcher, negated = _BASE[base]
        if value is None:
            return self.operator.endswith("IfExists") or negated
        hit = any(matcher(pattern, value) for pattern in self.values)
        return not hit if negated else hit


def all_match(conditions: tuple[Condition, ...], context: Mapping[str, str]) -> bool:
    return all(condition.matches(context) for condition in conditions)
