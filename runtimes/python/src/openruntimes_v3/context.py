"""The ``context`` argument of a function: req, res, log and error (spec section 2)."""
from .logs import entry, to_json


class Request:
    """The request as the function sees it (``context.req``, spec 1.6)."""

    __slots__ = ("body_raw", "body", "headers", "method", "scheme", "host", "port", "path",
                 "query_string", "query", "url")

    def __repr__(self):
        return f"<Request {self.method} {self.url}>"


class Response:
    """Builders of response records (``context.res``, spec 2.2); they send nothing."""

    __slots__ = ()

    def send(self, body, statusCode=200, headers=None):
        return {"body": body, "statusCode": statusCode, "headers": dict(headers or {})}

    def json(self, obj, statusCode=200, headers=None):
        headers = {name: value for name, value in (headers or {}).items()
                   if str(name).lower() != "content-type"}
        headers["content-type"] = "application/json"
        return {"body": to_json(obj), "statusCode": statusCode, "headers": headers}

    def empty(self):
        return {"body": "", "statusCode": 204, "headers": {}}

    def redirect(self, url, statusCode=301, headers=None):
        headers = {name: value for name, value in (headers or {}).items()
                   if str(name).lower() != "location"}
        headers["location"] = url
        return {"body": "", "statusCode": statusCode, "headers": headers}


class Context:
    """What ``main(context)`` receives."""

    __slots__ = ("req", "res", "_call")

    def __init__(self, req, call):
        self.req = req
        self.res = Response()
        self._call = call

    def log(self, *values):
        """Append one entry to the call's logs; several values are joined with spaces."""
        self._call.log(entry(values))

    def error(self, *values):
        """Append one entry to the call's errors; several values are joined with spaces."""
        self._call.error(entry(values))
