"""The hot path: ``POST /v1/runtimes/<id>/executions`` with a JSON body, as plain WSGI.

Flask's request context, routing and response objects cost more than the executor's own work on
a warm execution, so JSON execution requests are answered here, in front of Flask. Every other
request (other routes, multipart, url-encoded or empty bodies, bodies over the request limit)
goes on to the Flask app untouched. Both share :mod:`executor.api.codec`, the error bodies and
the access log, so a caller cannot tell which one answered.
"""
from __future__ import annotations

import io
import logging
import re
import time

from werkzeug.http import HTTP_STATUS_CODES

from executor import executions
from executor.api import codec
from executor.auth import bearer_matches
from executor.errors import NO_CACHE, ExecutorError, respond
from executor.services import Services

access_log = logging.getLogger("executor.access")
EXECUTIONS_PATH = re.compile(r"/v1/runtimes/([^/]+)/executions?")
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
ERROR_HEADERS = list(NO_CACHE.items())


class ExecutionFastPath:
    """WSGI middleware serving JSON execution requests; the rest goes to ``app``."""

    def __init__(self, app, services: Services, max_request_bytes: int):
        self.app = app
        self.services = services
        self.config = services.config
        self.max_request_bytes = max_request_bytes

    def __call__(self, environ, start_response):
        runtime_id = self._runtime_id(environ)
        if runtime_id is None:
            return self.app(environ, start_response)
        started = time.perf_counter()
        try:
            if not bearer_matches(environ.get("HTTP_AUTHORIZATION"), self.config.secret):
                raise ExecutorError("general_unauthorized")
            runtime_id = codec.checked_id(runtime_id)
            raw = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
            if not raw.strip():  # parameters come from the query string then: Flask's case
                environ["wsgi.input"] = io.BytesIO(raw)
                return self.app(environ, start_response)
            execution = codec.execution_request(runtime_id, codec.json_object(raw))
            result = executions.execute(self.services, execution)
            content_type, payload = codec.encode_result(result, environ.get("HTTP_ACCEPT", ""))
            status, headers = 200, [("Content-Type", content_type)]
        except Exception as error:
            status, payload = respond(error, self.config, f"POST {environ['PATH_INFO']}")
            headers = [("Content-Type", "application/json"), *ERROR_HEADERS]
        headers.append(("Content-Length", str(len(payload))))
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}", headers)
        log_request("POST", environ["PATH_INFO"], status, started, runtime_id)
        return [payload]

    def _runtime_id(self, environ) -> str | None:
        """The runtime id when this request is one the fast path serves, else None."""
        if environ["REQUEST_METHOD"] != "POST":
            return None
        match = EXECUTIONS_PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None:
            return None
        length = environ.get("CONTENT_LENGTH", "")
        if not length.isdigit() or not 0 < int(length) <= self.max_request_bytes:
            return None
        mimetype = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
        if mimetype in FORM_TYPES:
            return None
        return match.group(1)


def log_request(method: str, path: str, status: int, started: float, runtime_id: str) -> None:
    """The access-log line of one request (never bodies, headers or secrets)."""
    if access_log.isEnabledFor(logging.INFO):
        access_log.info("%s %s %s %.1fms runtime=%s", method, path, status,
                        (time.perf_counter() - started) * 1000, runtime_id)
