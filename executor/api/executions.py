"""Execution views: ``/v1/runtimes/<id>/executions`` and the legacy ``/v1/execution``."""
from __future__ import annotations

import json
import secrets

from flask import Response, current_app, request

from executor import executions
from executor.api import blueprint, params
from executor.api.runtimes import checked_id, create_request
from executor.errors import ExecutorError, invalid
from executor.executions import ExecutionRequest, Result
from executor.validation import (Field, binary, boolean, integer, mapping, number, parse,
                                 runtime_id, string, string_map)

BODY_LIMIT = 20 * 1024 * 1024
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")
# Used only when the runtime does not exist yet (cold start).
COLD_START_FIELDS = [
    Field("image", string, default="", max_len=128),
    Field("source", string, default="", max_len=4096),
    Field("entrypoint", string, default="", max_len=256),
    Field("variables", string_map, default=dict),
    Field("cpus", number, default=1.0, minimum=0.001),
    Field("memory", integer, default=512, minimum=1),
    Field("version", string, default="v3", max_len=16),
    Field("runtimeEntrypoint", string, default="", max_len=1024),
    Field("keepWarm", boolean, default=False),
    Field("idleTimeout", integer, default=None, minimum=0),
]
EXECUTION_FIELDS = [
    Field("body", binary, default=b""),
    Field("path", string, default="/", max_len=2048),
    Field("method", string, default="GET", choices=METHODS),
    Field("headers", mapping, default=dict),
    Field("timeout", integer, default=15, minimum=1),
    Field("logging", boolean, default=True),
    *COLD_START_FIELDS,
]
LEGACY_FIELDS = [
    Field("runtimeId", runtime_id, required=True),
    Field("payload", binary, default=b""),
    Field("timeout", integer, default=15, minimum=1),
    *COLD_START_FIELDS,
]


def services():
    return current_app.extensions["executor"].services


@blueprint.post("/v1/runtimes/<runtime_id>/executions")
@blueprint.post("/v1/runtimes/<runtime_id>/execution")
def create_execution(runtime_id):
    identifier = checked_id(runtime_id)
    values = parse(params.read(request), EXECUTION_FIELDS)
    path = values["path"] if values["path"].startswith("/") else "/" + values["path"]
    headers = executions.forwarded_headers(values["headers"])  # refused before any cold start
    return _respond(ExecutionRequest(
        runtime_id=identifier, body=_limited(values["body"], "body"), path=executions.check_path(path),
        method=values["method"], headers=headers, timeout=values["timeout"],
        logging=values["logging"], create=_cold_start(identifier, values)))


@blueprint.post("/v1/execution")
def legacy_execution():
    values = parse(params.read(request), LEGACY_FIELDS)
    return _respond(ExecutionRequest(
        runtime_id=values["runtimeId"], body=_limited(values["payload"], "payload"), path="/",
        method="POST", headers={}, timeout=values["timeout"],
        create=_cold_start(values["runtimeId"], values)))


def _limited(body: bytes, name: str) -> bytes:
    if len(body) > BODY_LIMIT:
        raise invalid(f"Invalid {name}: must be at most {BODY_LIMIT} bytes (20 MiB)")
    return body


def _cold_start(identifier: str, values: dict):
    if not values["image"] and not values["source"]:
        return None
    return create_request({**values, "runtimeId": identifier, "command": "", "destination": ""})


def _respond(execution: ExecutionRequest) -> Response:
    result = executions.execute(services(), execution)
    if _wants_multipart(request.headers.get("accept", "")):
        return _multipart(result)
    try:
        text = result.body.decode("utf-8")
    except UnicodeDecodeError:
        raise ExecutorError("execution_bad_json") from None
    return Response(json.dumps(result.fields(text), ensure_ascii=False), status=200,
                    mimetype="application/json")


def _wants_multipart(accept: str) -> bool:
    accept = accept.lower()
    return "multipart/form-data" in accept and "application/json" not in accept


def _multipart(result: Result) -> Response:
    boundary = secrets.token_hex(16)
    parts = []
    for name, value in result.fields(result.body).items():
        if isinstance(value, bytes):
            data, kind = value, "application/octet-stream"
        elif isinstance(value, (dict, bool)):
            data, kind = json.dumps(value).encode(), "application/json"
        else:
            data, kind = str(value).encode("utf-8"), "text/plain; charset=utf-8"
        parts.append(b"--" + boundary.encode() + b"\r\n"
                     + f'Content-Disposition: form-data; name="{name}"\r\n'.encode()
                     + f"Content-Type: {kind}\r\n\r\n".encode() + data + b"\r\n")
    payload = b"".join(parts) + b"--" + boundary.encode() + b"--\r\n"
    return Response(payload, status=200, content_type=f"multipart/form-data; boundary={boundary}")
