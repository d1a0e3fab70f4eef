"""Execution requests in, execution results out, without Flask.

The Flask views and the WSGI fast path (:mod:`executor.fastpath`) share these functions, so an
execution is validated and answered the same way whichever of them serves it.
"""
from __future__ import annotations

import json
import secrets
from typing import Any

from executor import executions
from executor.builds import CreateRequest
from executor.errors import ExecutorError, invalid
from executor.executions import ExecutionRequest, Result
from executor.validation import (Field, binary, boolean, integer, mapping, number, parse,
                                 runtime_id, string, string_map)

BODY_LIMIT = 20 * 1024 * 1024
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")
RUNTIME_ID_FIELDS = [Field("runtimeId", runtime_id, required=True)]
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
    *RUNTIME_ID_FIELDS,
    Field("payload", binary, default=b""),
    Field("timeout", integer, default=15, minimum=1),
    *COLD_START_FIELDS,
]


def json_object(raw: bytes) -> dict[str, Any]:
    """The parameters of a JSON request body (a 400 unless it is a JSON object)."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise invalid("Invalid request body: it must be a JSON object (content-type: application/json)") from None
    if not isinstance(data, dict):
        raise invalid("Invalid request body: it must be a JSON object")
    return data


def checked_id(value: str) -> str:
    """A runtime id from the URL, validated before any use."""
    return parse({"runtimeId": value}, RUNTIME_ID_FIELDS)["runtimeId"]


def create_request(values: dict) -> CreateRequest:
    """The create (or cold-start) parameters of validated ``values``."""
    return CreateRequest(
        runtime_id=values["runtimeId"], image=values["image"], entrypoint=values["entrypoint"],
        source=values["source"], destination=values.get("destination", ""),
        variables=values["variables"], runtime_entrypoint=values["runtimeEntrypoint"],
        command=values.get("command", ""), timeout=values.get("timeout", 600),
        remove=values.get("remove", False), cpus=values["cpus"], memory=values["memory"],
        version=values["version"], keep_warm=values.get("keepWarm", False),
        idle_timeout=values.get("idleTimeout"))


def execution_request(identifier: str, raw: dict[str, Any]) -> ExecutionRequest:
    """``POST /v1/runtimes/<identifier>/executions`` parameters, validated (a 400 otherwise);
    ``identifier`` has passed :func:`checked_id` already (before the body was read). Headers
    and path are checked here, before any cold start."""
    values = parse(raw, EXECUTION_FIELDS)
    path = values["path"] if values["path"].startswith("/") else "/" + values["path"]
    return ExecutionRequest(
        runtime_id=identifier, body=_limited(values["body"], "body"),
        path=executions.check_path(path), method=values["method"],
        headers=executions.forwarded_headers(values["headers"]), timeout=values["timeout"],
        logging=values["logging"], create=_cold_start(identifier, values))


def legacy_request(raw: dict[str, Any]) -> ExecutionRequest:
    """``POST /v1/execution`` parameters (v2 era), validated."""
    values = parse(raw, LEGACY_FIELDS)
    return ExecutionRequest(
        runtime_id=values["runtimeId"], body=_limited(values["payload"], "payload"), path="/",
        method="POST", headers={}, timeout=values["timeout"],
        create=_cold_start(values["runtimeId"], values))


def _limited(body: bytes, name: str) -> bytes:
    if len(body) > BODY_LIMIT:
        raise invalid(f"Invalid {name}: must be at most {BODY_LIMIT} bytes (20 MiB)")
    return body


def _cold_start(identifier: str, values: dict) -> CreateRequest | None:
    if not values["image"] and not values["source"]:
        return None
    return create_request({**values, "runtimeId": identifier, "command": "", "destination": ""})


def encode_result(result: Result, accept: str) -> tuple[str, bytes]:
    """The content type and body answering ``result``: JSON, or multipart/form-data when the
    caller accepts only that (the one form that can carry a binary body)."""
    if _wants_multipart(accept):
        return _multipart(result)
    try:
        text = result.body.decode("utf-8")
    except UnicodeDecodeError:
        raise ExecutorError("execution_bad_json") from None
    return "application/json", json.dumps(result.fields(text), ensure_ascii=False).encode("utf-8")


def _wants_multipart(accept: str) -> bool:
    accept = accept.lower()
    return "multipart/form-data" in accept and "application/json" not in accept


def _multipart(result: Result) -> tuple[str, bytes]:
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
    return f"multipart/form-data; boundary={boundary}", payload
