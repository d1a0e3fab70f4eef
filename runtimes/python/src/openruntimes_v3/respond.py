"""Turning a function's return value into status, headers and body (spec section 3)."""
from .logs import stringify
from .wire import is_token

RETURN_MISSING = (
    "Return statement missing. return context.res.empty() if no response is expected."
)
INVALID_RETURN = (
    "Invalid return value. Return context.res.send(), context.res.json(), "
    "context.res.empty() or context.res.redirect()."
)
# The server frames responses itself, and the protocol's own headers cannot be spoofed.
DROPPED_HEADERS = frozenset(("content-length", "transfer-encoding", "connection"))
RESERVED_PREFIX = "x-open-runtimes-"


class UserError(Exception):
    """The function returned something the server cannot send; ``str()`` is for the errors."""


def build_response(record):
    """(status, [(name, value)], body bytes) of a response record; raises UserError."""
    if record is None:
        raise UserError(RETURN_MISSING)
    if not isinstance(record, dict):
        raise UserError(INVALID_RETURN)
    status = _status(record.get("statusCode", 200))
    headers = _headers(record.get("headers"))
    return status, headers, _body(record.get("body", ""))


def _status(value):
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 3:
        status = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        status = value
    else:
        status = 0
    if not 200 <= status <= 599:
        raise UserError(f"Invalid status code: {value}")
    return status


def _body(value):
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8", "replace")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return stringify(value).encode("utf-8", "replace")


def _headers(headers):
    if headers is None:
        headers = {}
    if not isinstance(headers, dict):
        raise UserError(INVALID_RETURN)
    content_type = "text/plain"
    lines = []
    for name, value in headers.items():
        key = str(name).lower()
        if key.startswith(RESERVED_PREFIX) or key in DROPPED_HEADERS:
            continue
        if not key.isascii() or not is_token(key.encode("ascii")):
            raise UserError(f"Invalid response header: {name}")
        values = value if isinstance(value, (list, tuple)) else (value,)
        texts = [_header_text(name, item) for item in values]
        if key == "content-type":
            if texts:
                content_type = texts[0]
        else:
            lines.extend((key, text) for text in texts)
    lowered = content_type.lower()
    if not lowered.startswith("multipart/") and "charset=" not in lowered:
        content_type += "; charset=utf-8"
    lines.insert(0, ("content-type", content_type))
    return lines


def _header_text(name, value):
    text = value if isinstance(value, str) else str(value)
    if "\r" in text or "\n" in text or "\0" in text:
        raise UserError(f"Invalid response header: {name}")
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        raise UserError(f"Invalid response header: {name}") from None
    return text
