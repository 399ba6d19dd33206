"""Model-driven validation of AWS JSON 1.1 request bodies, answered the way AWS answers.

botocore checks only required members, Python types and *minimum* lengths/values before it
sends a request (see the API reference, section 1.7); everything else — enums, maximum lengths
and values, list sizes, patterns — is the server's job. The acm-pca service model states all of
it, so the validator is derived from the model instead of being written by hand per operation.

Validation runs on every request, so the model is walked once, when the validator is built: each
shape becomes a closure that knows its own constraints and calls its members' closures. Checking
a request is then a walk over the request body only, with no model lookups.

Two failure classes mirror what an AWS (Coral) service does:

* A body that cannot be read as the operation's input — wrong JSON types, undecodable base64,
  numbers out of the Java range of the member — is a deserialization failure:
  ``SerializationException``, raised at the first problem, because AWS never gets as far as
  validating a value it could not deserialize.
* Constraint violations are all collected and reported together as one ``ValidationException``
  whose message has Coral's exact shape, e.g. ``1 validation error detected: Value 'X' at
  'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [...]``.

Checks that need more than one member (GeneralName's "exactly one of") are domain rules and do
not belong here.

The model's Java patterns are translated in `java_pattern`; violations are collected and
rendered in `violations`.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Sized
from typing import Any, Final

from botocore.model import ServiceModel

from pica.wire.awsjson.java_pattern import compile_java_pattern
from pica.wire.awsjson.violations import ByteBuffer, Violations

SERIALIZATION_EXCEPTION: Final = "SerializationException"
VALIDATION_EXCEPTION: Final = "ValidationException"
UNKNOWN_OPERATION_EXCEPTION: Final = "UnknownOperationException"


# Java's value ranges: Coral deserializes into Java types, so larger numbers fail to deserialize.
_INT_RANGE: Final = (-(2**31), 2**31 - 1)
_LONG_RANGE: Final = (-(2**63), 2**63 - 1)

# A compiled check receives a non-null value, the Coral path of that value ("" for the body
# itself) and the collector. It raises RequestValidationError for deserialization failures.
_Check = Callable[[object, str, Violations], None]


class RequestValidationError(Exception):
    """A request body that AWS would refuse; ``code`` is the wire ``__type``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_NOT_NULL: Final = "Member must not be null"


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a structure or map"
    return type(value).__name__


def _type_error(path: str, value: object, expected: str) -> RequestValidationError:
    return RequestValidationError(
        SERIALIZATION_EXCEPTION,
        f"Cannot deserialize '{path}': expected {expected}, found {_json_kind(value)}",
    )


def _body_error(value: object) -> RequestValidationError:
    if isinstance(value, list):
        message = "Start of list found where not expected"
    else:
        message = f"The request body must be a JSON object, found {_json_kind(value)}"
    return RequestValidationError(SERIALIZATION_EXCEPTION, message)


def _member_path(parent: str, member: str) -> str:
    return member if not parent else f"{parent}.{member}"


def _lower_camel(name: str) -> str:
    """Coral names members in paths by their Java field names: PascalCase with a lowered head."""
    return name[:1].lower() + name[1:]


# ---------------------------------------------------------------------------------------------
# Compilation of shapes into checks
# ---------------------------------------------------------------------------------------------


class _Lengths:
    """A shape's length bounds (characters, decoded octets or members) and Coral's message for
    each, built once per shape. A zero minimum is dropped: it can never be violated."""

    __slots__ = ("_high", "_high_message", "_low", "_low_message")

    def __init__(self, shape: Any) -> None:
        self._low: int | None = shape.metadata.get("min") or None
        self._high: int | None = shape.metadata.get("max")
        self._low_message = f"Member must have length greater than or equal to {self._low}"
        self._high_message = f"Member must have length less than or equal to {self._high}"

    def violated(self, length: int) -> str | None:
        """The constraint a value of `length` breaks, if any (the model's minimums never exceed
        its maximums, so a value breaks one at most)."""
        if self._low is not None and length < self._low:
            return self._low_message
        if self._high is not None and length > self._high:
            return self._high_message
        return None

    def check(self, value: Sized, path: str, violations: Violations) -> None:
        """Record the constraint `value` breaks by its own length, if any."""
        constraint = self.violated(len(value))
        if constraint is not None:
            violations.add(value, path, constraint)


def _compile_string(shape: Any) -> _Check:
    enum_values: list[str] = list(shape.metadata.get("enum") or ())
    allowed = frozenset(enum_values) if enum_values else None
    enum_constraint = "Member must satisfy enum value set: [" + ", ".join(enum_values) + "]"
    lengths = _Lengths(shape)
    raw_pattern: str | None = shape.metadata.get("pattern")
    regex = compile_java_pattern(raw_pattern) if raw_pattern else None
    pattern_constraint = f"Member must satisfy regular expression pattern: {raw_pattern}"

    def check_string(value: object, path: str, violations: Violations) -> None:
        if not isinstance(value, str):
            raise _type_error(path, value, "a string")
        if allowed is not None and value not in allowed:
            violations.add(value, path, enum_constraint)
        lengths.check(value, path, violations)
        if regex is not None and regex.fullmatch(value) is None:
            violations.add(value, path, pattern_constraint)

    return check_string


def _compile_integer(shape: Any, java_range: tuple[int, int], java_name: str) -> _Check:
    low: int | None = shape.metadata.get("min")
    high: int | None = shape.metadata.get("max")
    low_constraint = f"Member must have value greater than or equal to {low}"
    high_constraint = f"Member must have value less than or equal to {high}"
    java_low, java_high = java_range

    def check_integer(value: object, path: str, violations: Violations) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _type_error(path, value, f"an integer ({java_name})")
        if not java_low <= value <= java_high:
            raise RequestValidationError(
                SERIALIZATION_EXCEPTION,
                f"Cannot deserialize '{path}': numeric value ({value}) out of range of "
                f"{java_name} ({java_low} - {java_high})",
            )
        if low is not None and value < low:
            violations.add(value, path, low_constraint)
        if high is not None and value > high:
            violations.add(value, path, high_constraint)

    return check_integer


def _compile_float(shape: Any) -> _Check:
    low: float | None = shape.metadata.get("min")
    high: float | None = shape.metadata.get("max")

    def check_float(value: object, path: str, violations: Violations) -> None:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise _type_error(path, value, "a number")
        if low is not None and value < low:
            violations.add(value, path, f"Member must have value greater than or equal to {low}")
        if high is not None and value > high:
            violations.add(value, path, f"Member must have value less than or equal to {high}")

    return check_float


def _check_boolean(value: object, path: str, violations: Violations) -> None:
    if not isinstance(value, bool):
        raise _type_error(path, value, "a boolean")


def _check_timestamp(value: object, path: str, violations: Violations) -> None:
    # AWS JSON sends timestamps as epoch seconds; acm-pca has no timestamp inputs today.
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _type_error(path, value, "a timestamp (epoch seconds)")


def _check_anything(value: object, path: str, violations: Violations) -> None:
    """Smithy documents are free-form JSON; there is nothing to check."""


def _compile_blob(shape: Any) -> _Check:
    lengths = _Lengths(shape)

    def check_blob(value: object, path: str, violations: Violations) -> None:
        if not isinstance(value, str):
            raise _type_error(path, value, "a base64-encoded string")
        try:
            # strict_mode: standard alphabet only, correct padding, no whitespace — exactly
            # what botocore produces.
            decoded_length = len(binascii.a2b_base64(value, strict_mode=True))
        except ValueError as exc:  # binascii.Error, or non-ASCII input
            raise RequestValidationError(
                SERIALIZATION_EXCEPTION,
                f"Cannot deserialize '{path}': invalid base64 data ({exc})",
            ) from None
        length_constraint = lengths.violated(decoded_length)
        if length_constraint is not None:
            violations.add(ByteBuffer(decoded_length), path, length_constraint)

    return check_blob


class _Compiler:
    """Turns shapes into checks, once per shape name (shapes are shared between operations)."""

    def __init__(self) -> None:
        self._checks: dict[str, _Check] = {}

    def compile(self, shape: Any) -> _Check:
        cached = self._checks.get(shape.name)
        if cached is not None:
            return cached
        # A recursive shape refers to itself before its check exists; route such references
        # through a trampoline that is bound once compilation finishes.
        slot: list[_Check] = []

        def trampoline(value: object, path: str, violations: Violations) -> None:
            slot[0](value, path, violations)

        self._checks[shape.name] = trampoline
        check = self._build(shape)
        slot.append(check)
        self._checks[shape.name] = check
        return check

    def _build(self, shape: Any) -> _Check:
        type_name: str = shape.type_name
        if type_name == "structure":
            return self._structure(shape)
        if type_name == "list":
            return self._list(shape)
        if type_name == "map":
            return self._map(shape)
        if type_name == "string":
            return _compile_string(shape)
        if type_name in ("integer", "short", "byte"):
            return _compile_integer(shape, _INT_RANGE, "int")
        if type_name == "long":
            return _compile_integer(shape, _LONG_RANGE, "long")
        if type_name in ("float", "double"):
            return _compile_float(shape)
        if type_name == "boolean":
            return _check_boolean
        if type_name == "blob":
            return _compile_blob(shape)
        if type_name == "timestamp":
            return _check_timestamp
        if type_name == "document":
            return _check_anything
        raise ValueError(f"shape {shape.name} has a type the validator does not know: {type_name}")

    def _structure(self, shape: Any) -> _Check:
        required = set(shape.required_members)
        members = tuple(
            (name, _lower_camel(name), name in required, self.compile(member))
            for name, member in shape.members.items()
        )

        def check_structure(value: object, path: str, violations: Violations) -> None:
            if not isinstance(value, dict):
                raise _type_error(path, value, "a structure")
            for name, field, is_required, check in members:
                item = value.get(name)
                # JSON null is "absent", as botocore and Coral both treat it.
                if item is None:
                    if is_required:
                        violations.add(None, _member_path(path, field), _NOT_NULL)
                    continue
                check(item, _member_path(path, field), violations)

        return check_structure

    def _list(self, shape: Any) -> _Check:
        check_member = self.compile(shape.member)
        sizes = _Lengths(shape)

        def check_list(value: object, path: str, violations: Violations) -> None:
            if not isinstance(value, list):
                raise _type_error(path, value, "a list")
            sizes.check(value, path, violations)
            for position, item in enumerate(value, 1):
                item_path = f"{path}.{position}.member"
                if item is None:
                    violations.add(None, item_path, _NOT_NULL)
                else:
                    check_member(item, item_path, violations)

        return check_list

    def _map(self, shape: Any) -> _Check:
        check_key = self.compile(shape.key)
        check_value = self.compile(shape.value)
        sizes = _Lengths(shape)

        def check_map(value: object, path: str, violations: Violations) -> None:
            if not isinstance(value, dict):
                raise _type_error(path, value, "a map")
            sizes.check(value, path, violations)
            for key, item in value.items():
                check_key(key, f"{path}.{key}.key", violations)
                if item is None:
                    violations.add(None, f"{path}.{key}.value", _NOT_NULL)
                else:
                    check_value(item, f"{path}.{key}.value", violations)

        return check_map


def _check_empty_input(value: object, path: str, violations: Violations) -> None:
    """Operations without an input shape accept any object (members are ignored)."""


class RequestValidator:
    """Validates decoded request bodies against the service model, one check tree per operation.

    Build it once at start-up (building walks the whole model and compiles its patterns) and
    share it: ``validate`` keeps no state between calls.
    """

    def __init__(self, service_model: ServiceModel) -> None:
        compiler = _Compiler()
        operations: dict[str, _Check] = {}
        for name in service_model.operation_names:
            input_shape = service_model.operation_model(name).input_shape
            operations[name] = (
                _check_empty_input if input_shape is None else compiler.compile(input_shape)
            )
        self._operations = operations

    @property
    def operation_names(self) -> frozenset[str]:
        """The operations this validator has a check tree for."""
        return frozenset(self._operations)

    def validate(self, operation_name: str, params: object) -> None:
        """Raise RequestValidationError unless ``params`` is a valid input for the operation.

        ``params`` is the JSON-decoded request body. Members the model does not know are
        ignored, as AWS ignores them.
        """
        check = self._operations.get(operation_name)
        if check is None:
            raise RequestValidationError(
                UNKNOWN_OPERATION_EXCEPTION, f"Unknown operation: {operation_name}"
            )
        if not isinstance(params, dict):
            raise _body_error(params)
        violations = Violations()
        check(params, "", violations)
        if violations.count:
            raise RequestValidationError(VALIDATION_EXCEPTION, violations.message())
