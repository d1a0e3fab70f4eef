"""Request parameters: read from JSON, multipart, form or query, then checked and coerced.

Coercion rules (spec section 2): multipart values are strings, so numbers accept numeric
strings, booleans accept ``"1"``/``""``/``"true"``/``"false"``, and objects accept a
JSON-encoded string. Unknown parameters are ignored; ``None`` counts as absent.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from executor.errors import ExecutorError, invalid

RUNTIME_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")
RUNTIME_ID_RULE = "must be 1-64 characters of A-Z a-z 0-9 . _ -"
TRUE_WORDS = {"1", "true"}
FALSE_WORDS = {"", "0", "false"}
MISSING = object()


@dataclass(frozen=True)
class Field:
    """One parameter: its name, how to coerce it, its default and bounds."""

    name: str
    coerce: Callable[["Field", Any], Any]
    default: Any = None
    required: bool = False
    min_len: int = 0
    max_len: int | None = None
    minimum: float | None = None
    choices: tuple[str, ...] = ()


def parse(raw: Mapping[str, Any], fields: list[Field]) -> dict[str, Any]:
    """Check ``raw`` against ``fields``: ``{name: coerced value}`` or a 400 naming the param."""
    values = {}
    for field in fields:
        value = raw.get(field.name, MISSING)
        if value is MISSING or value is None:
            if field.required:
                raise invalid(f'Param "{field.name}" is not optional.')
            values[field.name] = field.default() if callable(field.default) else field.default
            continue
        values[field.name] = field.coerce(field, value)
    return values


def string(field: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise invalid(f"Invalid {field.name}: must be a string")
    if len(value) < field.min_len or (field.max_len is not None and len(value) > field.max_len):
        upper = field.max_len if field.max_len is not None else "any number of"
        raise invalid(f"Invalid {field.name}: must be {field.min_len}-{upper} characters long")
    if field.choices and value not in field.choices:
        raise invalid(f"Invalid {field.name}: must be one of {', '.join(field.choices)}")
    return value


def runtime_id(field: Field, value: Any) -> str:
    """A runtime id, checked before it is used in any path or container name."""
    if not isinstance(value, str) or not RUNTIME_ID.fullmatch(value):
        raise invalid(f"Invalid {field.name}: {RUNTIME_ID_RULE}")
    return value


def integer(field: Field, value: Any) -> int:
    result: int | None = None
    if isinstance(value, bool):
        result = None
    elif isinstance(value, int):
        result = value
    elif isinstance(value, float) and value.is_integer():
        result = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        result = int(value)
    if result is None:
        raise invalid(f"Invalid {field.name}: must be an integer")
    _check_minimum(field, result)
    return result


def number(field: Field, value: Any) -> float:
    result: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value)
        except ValueError:
            result = None
    if result is None or not math.isfinite(result):
        raise invalid(f"Invalid {field.name}: must be a number")
    _check_minimum(field, result)
    return result


def boolean(field: Field, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise invalid(f"Invalid {field.name}: must be a boolean")


def mapping(field: Field, value: Any) -> dict:
    """An object, or a JSON-encoded object (multipart); empty text is an empty object."""
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except ValueError:
            raise invalid(f"Invalid {field.name}: must be an object or a JSON-encoded object") from None
    if isinstance(value, list) and not value:
        return {}  # PHP-era callers encode an empty map as []
    if not isinstance(value, dict):
        raise invalid(f"Invalid {field.name}: must be an object")
    return value


def string_map(field: Field, value: Any) -> dict[str, str]:
    """An object whose values are stringified (``2.5`` -> ``"2.5"``, ``true`` -> ``"true"``)."""
    return {str(key): stringify(item) for key, item in mapping(field, value).items()}


def stringify(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def binary(field: Field, value: Any) -> bytes:
    """A request body: bytes from multipart, text from JSON (sent as UTF-8)."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    raise invalid(f"Invalid {field.name}: must be a string")


def _check_minimum(field: Field, value: float) -> None:
    if field.minimum is not None and value < field.minimum:
        bound = int(field.minimum) if float(field.minimum).is_integer() else field.minimum
        raise invalid(f"Invalid {field.name}: must be at least {bound}")


def too_large(name: str, limit: int) -> ExecutorError:
    return invalid(f"Invalid {name}: must be at most {limit} bytes")
