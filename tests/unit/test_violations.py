"""violations: constraint violations collected and rendered as Coral renders them."""

from __future__ import annotations

from pica.wire.awsjson.violations import MAX_LISTED_VIOLATIONS, ByteBuffer, Violations


def test_one_violation_in_corals_words() -> None:
    violations = Violations()
    violations.add("X", "signingAlgorithm", "Member must satisfy enum value set: [A, B]")
    assert violations.count == 1
    assert violations.message() == (
        "1 validation error detected: Value 'X' at 'signingAlgorithm' failed to satisfy "
        "constraint: Member must satisfy enum value set: [A, B]"
    )


def test_values_render_as_java_renders_them() -> None:
    violations = Violations()
    violations.add(None, "a", "c")
    violations.add(True, "b", "c")
    violations.add(["x", 1, {"K": None}], "d", "c")
    violations.add(ByteBuffer(3), "e", "c")
    assert violations.message() == (
        "4 validation errors detected: Value null at 'a' failed to satisfy constraint: c; "
        "Value 'true' at 'b' failed to satisfy constraint: c; "
        "Value '[x, 1, {K=null}]' at 'd' failed to satisfy constraint: c; "
        "Value 'java.nio.HeapByteBuffer[pos=0 lim=3 cap=3]' at 'e' failed to satisfy "
        "constraint: c"
    )


def test_the_list_is_capped_and_the_count_stays_true() -> None:
    violations = Violations()
    for index in range(MAX_LISTED_VIOLATIONS + 5):
        violations.add(index, f"m{index}", "c")
    message = violations.message()
    assert message.startswith(f"{MAX_LISTED_VIOLATIONS + 5} validation errors detected: ")
    assert message.count("failed to satisfy constraint") == MAX_LISTED_VIOLATIONS
