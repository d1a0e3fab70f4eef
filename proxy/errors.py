"""The proxy's errors and their JSON bodies: ``{message, code, type, version}``."""
from __future__ import annotations

import json
import traceback
from http import HTTPStatus


class ProxyError(Exception):
    """An error answered to the client with ``status`` and a JSON body of ``type``."""

    def __init__(self, status: int, type: str, message: str):
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message


def unauthorized() -> ProxyError:
    return ProxyError(401, "proxy_unauthorized", "Incorrect proxy key.")


def no_executor() -> ProxyError:
    return ProxyError(503, "proxy_no_executor", "No online executor found")


def unreachable(name: str, error: str) -> ProxyError:
    return ProxyError(502, "proxy_executor_unreachable", f"Executor {name} is unreachable: {error}")


def timeout(name: str, seconds: float) -> ProxyError:
    return ProxyError(504, "proxy_timeout", f"Executor {name} did not answer within {seconds:g} s")


def bad_request(message: str) -> ProxyError:
    return ProxyError(400, "proxy_bad_request", message)


def unknown() -> ProxyError:
    return ProxyError(500, "proxy_unknown", "Internal server error.")


def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def error_body(error: ProxyError, version: str, development: bool, cause: BaseException | None = None) -> bytes:
    """The JSON body of ``error``; ``file``, ``line`` and ``trace`` only in development mode."""
    body: dict = {"message": error.message, "code": error.status, "type": error.type, "version": version}
    if development:
        origin = cause or error
        frames = traceback.extract_tb(origin.__traceback__) if origin.__traceback__ else []
        body["file"] = frames[-1].filename if frames else ""
        body["line"] = frames[-1].lineno if frames else 0
        body["trace"] = "".join(traceback.format_exception(origin)) if frames else ""
        if cause is not None and error.type == "proxy_unknown":
            body["message"] = f"{type(cause).__name__}: {cause}"
    return json.dumps(body).encode()
