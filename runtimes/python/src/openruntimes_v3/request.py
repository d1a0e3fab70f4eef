"""Building ``context.req`` from the request head and body (spec 1.5, 1.6)."""
from .context import Request

RESERVED_PREFIX = "x-open-runtimes-"


class InternalError(Exception):
    """A failure outside the function (spec 5.4); ``str()`` is the text for the errors."""


def build_request(head, body):
    """The Request of one HTTP request; raises InternalError for a bad Host or JSON body."""
    fields = head.fields
    req = Request()
    req.method = head.method
    req.headers = {name: value for name, value in fields.items()
                   if not name.startswith(RESERVED_PREFIX)}
    req.scheme = fields.get("x-forwarded-proto", "").strip() or "http"
    req.host, req.port = _host_and_port(fields.get("host", ""), req.scheme)

    path, _, req.query_string = _origin_form(head.target).partition("?")
    req.path = path or "/"
    req.query = _parse_query(req.query_string)

    default_port = 443 if req.scheme == "https" else 80
    port = "" if req.port == default_port else f":{req.port}"
    query = f"?{req.query_string}" if req.query_string else ""
    req.url = f"{req.scheme}://{req.host}{port}{req.path}{query}"

    req.body_raw = body.decode("utf-8", "replace")
    req.body = req.body_raw
    if "application/json" in fields.get("content-type", "").lower():
        req.body = _parse_json(req.body_raw)
    return req


def _host_and_port(value, scheme):
    value = value.strip()
    if not value:
        raise InternalError('Missing "Host" header.')
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            host, rest = value, ""
        else:
            host, rest = value[: end + 1], value[end + 1:]
        if rest and not rest.startswith(":"):
            raise InternalError(f'Invalid "Host" header: {value}')
        port = rest[1:]
    else:
        host, _, port = value.partition(":")
    if not port:
        return host, 443 if scheme == "https" else 80
    if not (port.isascii() and port.isdigit()) or len(port) > 18:
        raise InternalError(f'Invalid port in "Host" header: {value}')
    return host, int(port)


def _origin_form(target):
    """The path and query of the request target; an absolute-form target loses its authority."""
    lowered = target[:8].lower()
    if lowered.startswith("http://") or lowered.startswith("https://"):
        after_scheme = target.index("//") + 2
        start = min((i for i in (target.find("/", after_scheme), target.find("?", after_scheme))
                     if i >= 0), default=len(target))
        return target[start:]
    return target


def _parse_query(query_string):
    query = {}
    for segment in query_string.split("&"):
        if segment:
            key, _, value = segment.partition("=")
            query[key] = value
    return query


def _parse_json(text):
    if not text:
        return {}
    import json

    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InternalError(f"Invalid JSON body.\n{exc}") from None
