"""java_pattern: the model's Java regular expressions as Python `re` patterns."""

from __future__ import annotations

import re

import pytest

from pica.wire.awsjson.java_pattern import compile_java_pattern, translate_java_pattern
from pica.wire.awsjson.service_model import load_service_model


def test_every_model_pattern_translates_and_compiles() -> None:
    model = load_service_model()
    patterns = {
        shape.metadata["pattern"]
        for name in model.shape_names
        if "pattern" in (shape := model.shape_for(name)).metadata
    }
    assert patterns
    for pattern in patterns:
        compile_java_pattern(pattern)


def test_translation_of_unicode_properties() -> None:
    regex = compile_java_pattern(r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)")
    for good in ("abc", "Ünïcödé", "名前", "ελληνικά", "\u00a0", "٣", "Ⅻ", "a_b.c:d/e=f+g-h@i", ""):
        assert regex.fullmatch(good), good
    for bad in ("*", "a*b", "\t", "!", "#", "😀", "\u0301"):
        assert regex.fullmatch(bad) is None, bad


def test_translation_outside_a_class_and_negated() -> None:
    assert re.fullmatch(translate_java_pattern(r"\p{Lu}+"), "ÀB")
    assert re.fullmatch(translate_java_pattern(r"\p{Lu}+"), "Àb") is None
    assert re.fullmatch(translate_java_pattern(r"\P{N}+"), "abc")
    assert re.fullmatch(translate_java_pattern(r"\P{N}+"), "a1") is None


def test_translation_refuses_what_it_cannot_express() -> None:
    with pytest.raises(ValueError, match="nested"):
        translate_java_pattern(r"[a-z[0-9]]")
    with pytest.raises(ValueError, match="unsupported"):
        translate_java_pattern(r"[\P{L}]")
    with pytest.raises(ValueError, match="unsupported"):
        translate_java_pattern(r"\p{Qq}")


def test_escaped_backslash_before_p_is_not_a_property() -> None:
    assert translate_java_pattern(r"\\p{L}") == r"\\p{L}"


def test_plain_patterns_pass_through_and_compile_ascii() -> None:
    pattern = r"arn:[\w+=/,.@-]+:acm-pca:[\w+=/,.@-]*"
    assert translate_java_pattern(pattern) == pattern
    assert compile_java_pattern(r"\w+").fullmatch("abc_1")
    assert compile_java_pattern(r"\w+").fullmatch("é") is None  # Java's \w is ASCII
