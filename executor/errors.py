"""The error types of the API (spec section 2) and their JSON bodies."""
from __future__ import annotations

import json
import logging
import traceback

log = logging.getLogger("executor")

# type -> (HTTP status, default message)
TYPES: dict[str, tuple[int, str]] = {
    "general_unknown": (500, "Internal server error."),
    "general_route_not_found": (404, "Not Found"),
    "general_unauthorized": (401, "Missing executor key"),
    "general_argument_invalid": (400, "Invalid argument."),
    "build_failed": (400, "Build command failed."),
    "runtime_failed": (400, "Runtime failed."),
    "runtime_timeout": (400, "Timed out waiting for runtime."),
    "runtime_not_found": (404, "Runtime not found"),
    "runtime_conflict": (409, "Runtime already exists."),
    "execution_bad_request": (400, "Execution request was invalid."),
    "execution_bad_json": (400, 'Execution resulted in binary response, but JSON response does not allow binaries. Use "Accept: multipart/form-data" header to support binaries.'),
    "execution_timeout": (400, "Timed out waiting for execution."),
    "logs_timeout": (504, "Timed out waiting for logs."),
    "command_timeout": (500, "Operation timed out."),
    "command_failed": (500, "Failed to execute command."),
}

NO_CACHE = {"Cache-Control": "no-cache, no-store, must-revalidate"}


class ExecutorError(Exception):
    """An error the API answers with: a type of :data:`TYPES`, its status, a message."""

    def __init__(self, type: str, message: str | None = None, status: int | None = None):
        default_status, default_message = TYPES[type]
        self.type = type
        self.message = default_message if message is None else message
        self.status = default_status if status is None else status
        super().__init__(self.message)


def invalid(message: str) -> ExecutorError:
    """A 400 ``general_argument_invalid`` naming the parameter in ``message``."""
    return ExecutorError("general_argument_invalid", message)


def body(error: BaseException, version: str, development: bool) -> tuple[dict, int]:
    """The JSON body and status of ``error``; unexpected errors become ``general_unknown``."""
    if isinstance(error, ExecutorError):
        payload = {"message": error.message, "code": error.status, "type": error.type, "version": version}
        status = error.status
    else:
        status, message = TYPES["general_unknown"]
        if development:
            message = f"{type(error).__name__}: {error}"
        payload = {"message": message, "code": status, "type": "general_unknown", "version": version}
    if development:
        frames = traceback.extract_tb(error.__traceback__)
        last = frames[-1] if frames else None
        payload["file"] = last.filename if last else ""
        payload["line"] = last.lineno if last else 0
        payload["trace"] = [
            {"file": f.filename, "line": f.lineno, "function": f.name} for f in frames
        ]
    return payload, status


def respond(error: BaseException, config, what: str) -> tuple[int, bytes]:
    """The status and JSON body answering ``error`` in request ``what`` ("METHOD /path").
    Unexpected errors and 5xx are logged with their cause, and reported to sentry if set."""
    payload, status = body(error, config.version, config.development)
    if not isinstance(error, ExecutorError) or status >= 500:
        log.error("%s failed: %s", what, error, exc_info=not isinstance(error, ExecutorError))
        if config.logging_provider == "sentry":
            import sentry_sdk

            sentry_sdk.capture_exception(error)
    return status, json.dumps(payload).encode()
