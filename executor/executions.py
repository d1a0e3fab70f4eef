"""Executing a function: cold start, readiness, the call and its result (spec 3.5).

The hot path of a warm execution is one pooled keep-alive HTTP request to the runtime plus a
few dictionary operations: no Docker call, no file system access unless log files came back.
"""
from __future__ import annotations

import errno
import json
import logging
import os
import re
import socket
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import unquote

import gevent
from opr_http.upstream import ConnectionPool, HTTPConnectionClosed, HTTPParseError

from executor import builds, runtime_http
from executor.builds import CreateRequest
from executor.errors import ExecutorError
from executor.runtimes import Runtime
from executor.services import Services

log = logging.getLogger(__name__)

READY_POLL_SECONDS = 0.01           # how often the runtime's port is tried while it starts
EXIT_CHECK_SECONDS = 0.1            # how often the adapter is asked whether it died meanwhile
LOG_LIMIT = 5 * 1024 * 1024
LOG_TRUNCATED = "\nLog file has been truncated to 5.00MB."
# Hop-by-hop or framing headers the executor sets itself.
DROPPED_HEADERS = {"content-length", "transfer-encoding", "connection", "keep-alive"}
PROTOCOL_PREFIX = "x-open-runtimes-"
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")
HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
REQUEST_PATH = re.compile(r"/[\x21-\x7e]*")
# timings["kind"]: the runtime was running, was started from its image, or came from a pool.
WARM, COLD, POOL = "warm", "cold", "pool"


@dataclass(frozen=True)
class ExecutionRequest:
    """A validated execution (``headers`` as :func:`forwarded_headers` returns them);
    ``create`` holds the cold-start parameters when given."""

    runtime_id: str
    body: bytes = b""
    path: str = "/"
    method: str = "GET"
    headers: dict = field(default_factory=dict)
    timeout: int = 15
    logging: bool = True
    create: CreateRequest | None = None


@dataclass
class Result:
    status_code: int
    headers: dict
    body: bytes
    logs: str
    errors: str
    duration: float
    start_time: float
    cold_start: bool
    timings: dict

    def fields(self, body) -> dict:
        return {
            "statusCode": self.status_code,
            "headers": self.headers,
            "body": body,
            "logs": self.logs,
            "errors": self.errors,
            "duration": self.duration,
            "startTime": self.start_time,
            "coldStart": self.cold_start,
            "timings": self.timings,
        }


def execute(services: Services, request: ExecutionRequest) -> Result:
    """Run one execution within ``request.timeout`` seconds, cold start included."""
    started = time.monotonic()
    start_time = time.time()
    deadline = started + request.timeout
    timings = {"wait": 0.0, "create": 0.0, "ready": 0.0, "execution": 0.0, "total": 0.0}
    runtime, kind = _obtain(services, request, deadline, timings)
    timings["kind"] = kind
    runtime.inflight += 1
    runtime.touch()
    try:
        mark = time.monotonic()
        _wait_until_ready(services, runtime, deadline)
        timings["ready"] = _ms(mark)
        mark = time.monotonic()
        result = _call(services, runtime, request, deadline)
        timings["execution"] = _ms(mark)
    finally:
        runtime.inflight -= 1
        runtime.touch()
    timings["total"] = _ms(started)
    result.timings = timings
    result.start_time = start_time
    result.duration = time.monotonic() - started
    result.cold_start = kind != WARM
    return result


def _obtain(services: Services, request: ExecutionRequest, deadline: float,
            timings: dict) -> tuple[Runtime, str]:
    """The runtime to call and how it was obtained (:data:`WARM`, :data:`COLD`, :data:`POOL`):
    the registered one, one created now, or one being created."""
    runtime = services.registry.get(request.runtime_id)
    if runtime is not None and not runtime.pending:
        return runtime, WARM
    mark = time.monotonic()
    if runtime is None:
        create = request.create
        if create is None or not create.image or not create.source:
            raise ExecutorError(
                "runtime_not_found",
                "Runtime not found. Please start it first or provide runtime-related parameters.")
        try:
            created = builds.create(services, create)
        except ExecutorError as error:
            if error.type != "runtime_conflict":
                raise
            runtime = services.registry.get(request.runtime_id)  # created concurrently: wait
            if runtime is None:
                raise
        else:
            timings["create"] = created.create_ms
            return created.runtime, POOL if created.pooled else COLD
    # Another execution (or a create call) is creating it: wait within our own budget.
    if not runtime.settled.wait(max(0.0, deadline - time.monotonic())):
        raise ExecutorError("runtime_timeout")
    timings["wait"] = _ms(mark)
    if runtime.failure is not None:
        raise runtime.failure
    return runtime, POOL if runtime.pooled else COLD


def _wait_until_ready(services: Services, runtime: Runtime, deadline: float) -> None:
    """Poll the runtime's port until it accepts connections (spec 3.5, step 2)."""
    if runtime.listening:
        return
    instance = runtime.instance
    if instance is None:
        raise _removed()
    next_exit_check = 0.0
    while True:
        now = time.monotonic()
        if runtime.removed.is_set():
            raise _removed()
        if now >= next_exit_check:
            _fail_if_exited(services, runtime, "before it was ready")
            next_exit_check = now + EXIT_CHECK_SECONDS
        if _accepts(instance.host, instance.port, min(0.5, max(0.01, deadline - now))):
            runtime.listening = True
            return
        if time.monotonic() + READY_POLL_SECONDS >= deadline:
            raise ExecutorError("runtime_timeout")
        gevent.sleep(READY_POLL_SECONDS)


def _accepts(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _fail_if_exited(services: Services, runtime: Runtime, when: str) -> None:
    instance = runtime.instance
    if instance is None:
        raise _removed()
    exit = services.adapter.exited(instance)
    if exit is None:
        return
    services.remove(runtime)
    code = "unknown" if exit.code is None else exit.code
    tail = f" Last output:\n{exit.output_tail}" if exit.output_tail else ""
    raise ExecutorError(
        "runtime_failed",
        f"Runtime failed. The runtime exited with code {code} {when}; it has been removed and "
        f"the next execution starts a fresh one.{tail}")


def _removed() -> ExecutorError:
    return ExecutorError("runtime_failed", "Runtime failed. The runtime was removed during the execution.")


def _client(runtime: Runtime) -> ConnectionPool:
    if runtime.client is None:
        instance = runtime.instance
        if instance is None:
            raise _removed()
        runtime.client = runtime_http.client_for(instance)
    return runtime.client


def forwarded_headers(headers: dict) -> dict[str, str]:
    """The user's headers as sent to the runtime: names lower-cased, framing headers dropped.
    Names must be HTTP tokens and values ISO-8859-1 text without CR, LF or NUL, so that no
    header or request can be smuggled into the runtime's request."""
    result = {}
    for name, value in headers.items():
        name = str(name).lower()
        value = value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)
        if not HEADER_NAME.fullmatch(name) or not HEADER_VALUE.fullmatch(value):
            raise ExecutorError("execution_bad_request",
                                f"Execution request was invalid. Header {name[:64]!r} has an invalid name or value.")
        if name not in DROPPED_HEADERS:
            result[name] = value
    return result


def check_path(path: str) -> str:
    """The request target sent to the runtime: printable ASCII only (no spaces, no CR/LF)."""
    if not REQUEST_PATH.fullmatch(path):
        raise ExecutorError("execution_bad_request",
                            "Execution request was invalid. The path must be printable ASCII without spaces.")
    return path


def _call(services: Services, runtime: Runtime, request: ExecutionRequest, deadline: float) -> Result:
    config = services.config
    instance = runtime.instance
    if instance is None:
        raise _removed()
    headers = dict(request.headers)  # checked by forwarded_headers() when the request was parsed
    remaining = deadline - time.monotonic()
    headers["x-open-runtimes-secret"] = runtime.secret
    headers["x-open-runtimes-timeout"] = str(max(1, int(remaining)))
    log_id = None
    if instance.logs_dir is not None:
        log_id = uuid.uuid4().hex
        headers["x-open-runtimes-log-id"] = log_id
    else:
        headers.pop("x-open-runtimes-log-id", None)
    if not request.logging:
        headers["x-open-runtimes-logging"] = "disabled"
    attempts = config.retry_attempts
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ExecutorError("execution_timeout")
        try:
            with gevent.Timeout(remaining):
                response, body = runtime_http.request(_client(runtime), request.method, request.path,
                                                      headers, request.body)
            break
        except (gevent.Timeout, TimeoutError):
            raise ExecutorError("execution_timeout") from None
        except ConnectionRefusedError:
            _fail_if_exited(services, runtime, "during the execution")
            if runtime.removed.is_set():
                raise _removed() from None
            delay = config.retry_delay_ms / 1000
            if attempts <= 0 or time.monotonic() + delay >= deadline:
                raise ExecutorError("general_unknown", "Runtime request failed: connection refused.", 500) from None
            attempts -= 1
            gevent.sleep(delay)
        except (HTTPConnectionClosed, ConnectionResetError, BrokenPipeError) as error:
            raise _died(services, runtime, error) from None
        except HTTPParseError as error:
            if "connection closed" in str(error):
                raise _died(services, runtime, error) from None
            raise ExecutorError(
                "general_unknown", "Invalid response. This usually means too large logs or errors.", 500) from None
        except OSError as error:
            if runtime.removed.is_set():
                raise _removed() from None
            reason = error.strerror or errno.errorcode.get(error.errno or 0, str(error))
            raise ExecutorError("general_unknown", f"Runtime request failed: {reason}.", 500) from None
        except Exception:
            if runtime.removed.is_set():  # e.g. its connection pool was closed by the removal
                raise _removed() from None
            raise
    return _result(instance, response, body, log_id)


def _died(services: Services, runtime: Runtime, error: BaseException) -> ExecutorError:
    """The connection broke mid-call: the runtime is gone or unusable; remove it."""
    if runtime.removed.is_set():
        return _removed()
    try:
        _fail_if_exited(services, runtime, "during the execution")
    except ExecutorError as exited:
        return exited
    services.remove(runtime)
    return ExecutorError(
        "runtime_failed",
        f"Runtime failed. The runtime closed the connection during the execution ({error}); it has "
        "been removed and the next execution starts a fresh one.")


def _result(instance, response, body: bytes, log_id: str | None) -> Result:
    headers: dict[str, str] = {}
    for name, value in response.items():
        name = name.lower()
        if name.startswith(PROTOCOL_PREFIX):
            continue
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    logs = errors = None
    if log_id is not None and response.get("x-open-runtimes-log-id") == log_id:
        prefix = f"{instance.logs_dir}/{log_id}"
        logs, errors = _read_log_file(prefix + "_logs.log"), _read_log_file(prefix + "_errors.log")
    if logs is None:
        logs = _cap(unquote(response.get("x-open-runtimes-logs") or ""))
    if errors is None:
        errors = _cap(unquote(response.get("x-open-runtimes-errors") or ""))
    return Result(status_code=response.status_code, headers=headers, body=body, logs=logs,
                  errors=errors, duration=0.0, start_time=0.0, cold_start=False, timings={})


def _read_log_file(path: str) -> str | None:
    """The file's text (capped), then delete it; None when it is missing."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        # read(LOG_LIMIT + 1) would allocate 5 MiB first: ask for what the file holds.
        size = min(os.fstat(descriptor).st_size, LOG_LIMIT) + 1
        chunks = []
        while size > 0:
            chunk = os.read(descriptor, size)
            if not chunk:
                break
            chunks.append(chunk)
            size -= len(chunk)
        data = b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(descriptor)
        try:
            os.unlink(path)
        except OSError:
            pass
    if len(data) > LOG_LIMIT:
        return data[:LOG_LIMIT].decode("utf-8", "ignore") + LOG_TRUNCATED
    return data.decode("utf-8", "replace")


def _cap(text: str) -> str:
    encoded = text.encode("utf-8", "surrogateescape")
    if len(encoded) <= LOG_LIMIT:
        return text
    return encoded[:LOG_LIMIT].decode("utf-8", "ignore") + LOG_TRUNCATED


def _ms(since: float) -> float:
    return round((time.monotonic() - since) * 1000, 3)
