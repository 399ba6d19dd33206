"""JSON documents for the configuration a CA row carries: `CaConfiguration`, revocation config.

The codec follows the model's dataclass fields and type hints, so a document round-trips exactly
(enums by value, tuples back from lists, nested records) and a field added to the model is stored
without touching this module. The consequence: field names ARE the stored format. Adding a field
with a default is compatible (older documents lack the key and read back as the default); renaming
or removing one needs a data migration, and reading a document with an unknown key fails loudly
instead of dropping data. A `None` member is left out of the document.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from functools import cache
from typing import Any, TypeVar

from pica.authority.model import CaConfiguration, RevocationConfiguration

T = TypeVar("T")

JsonValue = None | bool | int | str | list["JsonValue"] | dict[str, "JsonValue"]


def dump_ca_configuration(configuration: CaConfiguration) -> str:
    return _dumps(configuration)


def load_ca_configuration(document: str) -> CaConfiguration:
    return _loads(CaConfiguration, document)


def dump_revocation_configuration(configuration: RevocationConfiguration) -> str:
    return _dumps(configuration)


def load_revocation_configuration(document: str) -> RevocationConfiguration:
    return _loads(RevocationConfiguration, document)


def _dumps(record: object) -> str:
    return json.dumps(_encode(record), sort_keys=True, separators=(",", ":"))


def _loads(cls: type[T], document: str) -> T:
    value = _decode(cls, json.loads(document))
    assert isinstance(value, cls)
    return value


def _encode(value: object) -> JsonValue:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _encode(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None
        }
    if isinstance(value, enum.Enum):
        return _encode(value.value)
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    raise TypeError(f"cannot store {type(value).__name__} in a configuration document")


@cache
def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _decode(annotation: Any, value: JsonValue) -> object:
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if value is None:
            return None
        if len(members) != 1:
            raise TypeError(f"unsupported union {annotation!r} in a configuration document")
        return _decode(members[0], value)
    if origin is tuple:
        item_type, ellipsis = typing.get_args(annotation)
        if ellipsis is not Ellipsis or not isinstance(value, list):
            raise ValueError(f"expected a list for {annotation!r}, got {value!r}")
        return tuple(_decode(item_type, item) for item in value)
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return _decode_record(annotation, value)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return annotation(value)
    if annotation in (bool, int, str):
        # bool is an int in Python: check exactly so true/1 cannot swap places.
        if type(value) is not annotation:
            raise ValueError(f"expected {annotation.__name__}, got {value!r}")
        return value
    raise TypeError(f"unsupported type {annotation!r} in a configuration document")


def _decode_record(cls: type, value: JsonValue) -> object:
    if not isinstance(value, dict):
        raise ValueError(f"expected an object for {cls.__name__}, got {value!r}")
    field_types = _field_types(cls)
    unknown = value.keys() - field_types.keys()
    if unknown:
        raise ValueError(f"unknown members {sorted(unknown)} in a stored {cls.__name__}")
    return cls(**{name: _decode(field_types[name], item) for name, item in value.items()})
