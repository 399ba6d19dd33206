"""Java regular expressions from the service model, rewritten as Python `re` patterns.

The acm-pca model's `pattern` constraints are Java (Smithy) regexes. The differences that matter
for them: `\\p{L}`-style Unicode properties, which Python lacks (spelled out as code point
ranges computed from `unicodedata`), and `\\w`/`\\d`/`\\s`, which are ASCII in Java (compiled
with `re.ASCII`). What cannot be translated faithfully raises ValueError at start-up.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata


@functools.cache
def _unicode_category_ranges() -> dict[str, tuple[tuple[int, int], ...]]:
    """Map each Unicode general category (``Lu``, ``Nd``, ...) to its code point ranges.

    Python's ``re`` has no ``\\p{...}``; the ranges are computed once from ``unicodedata`` (one
    pass over all code points, a fraction of a second) so that Java classes can be spelled out.
    """
    ranges: dict[str, list[tuple[int, int]]] = {}
    category = unicodedata.category
    start = 0
    current = category(chr(0))
    for code_point in range(1, sys.maxunicode + 1):
        this = category(chr(code_point))
        if this != current:
            ranges.setdefault(current, []).append((start, code_point - 1))
            start, current = code_point, this
    ranges.setdefault(current, []).append((start, sys.maxunicode))
    return {name: tuple(spans) for name, spans in ranges.items()}


@functools.cache
def _category_class_body(name: str) -> str:
    """The inside of a Python character class equivalent to Java's ``\\p{name}``.

    ``name`` is a one-letter (``L``) or two-letter (``Lu``) general category, as used by the
    model's TagKey / TagValue patterns.
    """
    table = _unicode_category_ranges()
    spans = sorted(
        span for cat, cat_spans in table.items() if cat.startswith(name) for span in cat_spans
    )
    if not spans:
        raise ValueError(f"unsupported Unicode property in model pattern: \\p{{{name}}}")
    merged: list[list[int]] = []
    for low, high in spans:
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    parts = []
    for low, high in merged:
        parts.append(f"\\U{low:08x}" if low == high else f"\\U{low:08x}-\\U{high:08x}")
    return "".join(parts)


_PROPERTY = re.compile(r"\\([pP])(?:\{(?:Is)?([A-Za-z]{1,2})\}|([A-Za-z]))")


def translate_java_pattern(pattern: str) -> str:
    """Rewrite a Java regular expression from the model as an equivalent Python one.

    The model's patterns are Java (Smithy) regexes. The differences that matter for it:
    ``\\p{L}``-style Unicode properties, which Python lacks (spelled out as code point ranges),
    and ``\\w``/``\\d``/``\\s``, which are ASCII in Java (handled by compiling with
    ``re.ASCII``). Constructs that cannot be translated faithfully raise ValueError, so an
    unexpected model change fails at start-up rather than validating wrongly.
    """
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            match = _PROPERTY.match(pattern, index)
            if match is not None:
                body = _category_class_body(match.group(2) or match.group(3))
                if match.group(1) == "p":
                    out.append(body if in_class else f"[{body}]")
                elif in_class:
                    raise ValueError(f"negated property inside a class is unsupported: {pattern}")
                else:
                    out.append(f"[^{body}]")
                index = match.end()
                continue
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if char == "[":
            if in_class:
                raise ValueError(f"nested character classes are unsupported: {pattern}")
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        out.append(char)
        index += 1
    return "".join(out)


@functools.cache
def compile_java_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a model pattern for use with ``fullmatch`` (Smithy patterns are anchored)."""
    return re.compile(translate_java_pattern(pattern), re.ASCII)
