"""The hot path: a lean WSGI callable that forwards a request to an executor and streams back.

Flask is bypassed here on purpose (see README): per request the proxy authenticates, picks
candidates, writes one request head, streams the body through in chunks and relays the
response as it arrives, over pooled keep-alive connections.
"""
from __future__ import annotations

import hmac
import logging
import socket
import time
from typing import Callable, Iterable, Iterator

import gevent
from geventhttpclient.response import HTTPParseError

from proxy import errors
from proxy.balancing import ANYCAST_EFFICIENT, BROADCAST, Balancer, addressing_method
from proxy.config import ProxyConfig
from proxy.errors import ProxyError
from proxy.health import ExecutorState, HealthMonitor
from opr_http.upstream import ConnectionPool, HTTPConnectionClosed, UpstreamResponse

log = logging.getLogger("proxy")

HOP_BY_HOP = frozenset(("connection", "keep-alive", "proxy-connection", "te", "trailer",
                        "transfer-encoding", "upgrade"))
# Request headers (WSGI keys) the proxy never copies as they are: hop-by-hop ones, and those
# it replaces or sets itself.
_NOT_COPIED = frozenset({"HTTP_" + name.upper().replace("-", "_") for name in HOP_BY_HOP} | {
    "HTTP_HOST", "HTTP_AUTHORIZATION", "HTTP_X_FORWARDED_FOR", "HTTP_X_OPR_EXECUTOR_HOSTNAME",
    "HTTP_CONTENT_LENGTH", "HTTP_CONTENT_TYPE"})
_IDEMPOTENT = frozenset(("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"))


class StreamAborted(Exception):
    """Raised inside a started response: the WSGI server then closes the client connection."""


class _ConnectFailed(Exception):
    """Connecting failed before any request byte was sent: another executor may be tried."""


_HEADER_NAMES: dict[str, str] = {}
_HEADER_NAMES_MAX = 1024  # clients choose header names: the memo must stay bounded


def _header_name(key: str) -> str:
    """``HTTP_X_OPR_RUNTIME_ID`` -> ``X-Opr-Runtime-Id`` (memoised for the common names)."""
    name = _HEADER_NAMES.get(key)
    if name is None:
        name = "-".join(part.capitalize() for part in key[5:].split("_"))
        if len(_HEADER_NAMES) < _HEADER_NAMES_MAX:
            _HEADER_NAMES[key] = name
    return name


class Forwarder:
    """The WSGI application of every forwarded request (all but the proxy's own endpoint)."""

    def __init__(self, config: ProxyConfig, states: list[ExecutorState], balancer: Balancer,
                 monitor: HealthMonitor, report_exception: Callable[[BaseException], None] = lambda e: None):
        self._config = config
        self._states = states
        self._balancer = balancer
        self._monitor = monitor
        self._report_exception = report_exception
        self._pools = {state.name: ConnectionPool(state.executor.host, state.executor.port,
                                                   config.connect_timeout, config.idle_connections)
                       for state in states}
        self._client_token = config.secret.encode()
        self._executor_authorization = f"Bearer {config.executor_secret}"
        self._chunk = config.chunk_size

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        try:
            self.authenticate(environ)
            method = addressing_method(environ.get("HTTP_X_OPR_ADDRESSING_METHOD"))
            if method == BROADCAST:
                return self._broadcast(environ, start_response)
            runtime_id = environ.get("HTTP_X_OPR_RUNTIME_ID") if method == ANYCAST_EFFICIENT else None
            return self._forward(environ, start_response, self._balancer.plan(method, runtime_id), runtime_id)
        except ProxyError as error:
            return self._fail(start_response, error)
        except Exception as exc:
            log.exception("unexpected error while forwarding")
            self._report_exception(exc)
            return self._fail(start_response, errors.unknown(), exc)

    # -- steps -------------------------------------------------------------------------

    def authenticate(self, environ: dict) -> None:
        """Check ``authorization: Bearer <OPR_PROXY_SECRET>`` in constant time; 401 otherwise."""
        if not self._client_token:
            return
        header = environ.get("HTTP_AUTHORIZATION", "")
        token = header.split(" ", 1)[1] if " " in header else ""
        if not hmac.compare_digest(token.encode("latin-1", "replace"), self._client_token):
            raise errors.unauthorized()

    def _head_lines(self, environ: dict) -> list[str]:
        """The client's end-to-end headers as ``Name: value`` lines, plus the proxy's own."""
        connection = environ.get("HTTP_CONNECTION")
        named = {"HTTP_" + token.strip().upper().replace("-", "_") for token in connection.split(",")} \
            if connection else ()
        lines = [f"{_header_name(key)}: {value}" for key, value in environ.items()
                 if key[:5] == "HTTP_" and key not in _NOT_COPIED and key not in named]
        if environ.get("CONTENT_TYPE"):
            lines.append(f"Content-Type: {environ['CONTENT_TYPE']}")
        client = environ.get("REMOTE_ADDR") or "unknown"
        forwarded_for = environ.get("HTTP_X_FORWARDED_FOR")
        lines.append(f"X-Forwarded-For: {forwarded_for}, {client}" if forwarded_for else f"X-Forwarded-For: {client}")
        if "HTTP_X_FORWARDED_PROTO" not in environ:
            lines.append(f"X-Forwarded-Proto: {environ.get('wsgi.url_scheme', 'http')}")
        if "HTTP_X_FORWARDED_HOST" not in environ and "HTTP_HOST" in environ:
            lines.append(f"X-Forwarded-Host: {environ['HTTP_HOST']}")
        lines.append(f"Authorization: {self._executor_authorization}")
        return lines

    def _head(self, environ: dict, state: ExecutorState, lines: list[str], framing: str) -> bytes:
        target = environ.get("RAW_URI") or ""
        if not target.startswith("/"):  # absolute-form or a server without RAW_URI
            from urllib.parse import quote

            target = quote(environ.get("PATH_INFO", "/"), safe="/:@!$&'()*+,;=~-._%")
            if environ.get("QUERY_STRING"):
                target += "?" + environ["QUERY_STRING"]
        dev = f"X-Opr-Executor-Hostname: {state.name}\r\n" if self._config.development else ""
        return (f"{environ['REQUEST_METHOD']} {target} HTTP/1.1\r\nHost: {state.name}\r\n"
                + "\r\n".join(lines) + "\r\n" + framing + dev + "\r\n").encode("latin-1")

    def _forward(self, environ: dict, start_response, candidates: list[ExecutorState],
                 runtime_id: str | None) -> Iterable[bytes]:
        deadline = time.monotonic() + self._config.max_timeout
        lines = self._head_lines(environ)
        body, framing = self._request_body(environ)
        failures = []
        for state in candidates:
            try:
                response = self._exchange(state, environ, lines, body, framing, deadline)
            except _ConnectFailed as failure:
                self._monitor.mark_offline(state, str(failure))
                failures.append(f"{state.name}: {failure}")
                continue
            if runtime_id:
                self._balancer.record_warm(state, runtime_id)
            return self._relay(response, state, start_response, deadline, environ.get("gunicorn.sock"))
        if len(failures) == 1:
            name, _, reason = failures[0].partition(": ")
            raise errors.unreachable(name, reason)
        raise ProxyError(502, "proxy_executor_unreachable",
                         "Executors are unreachable: " + "; ".join(failures))

    def _request_body(self, environ: dict) -> tuple[bytes | Iterator[bytes] | None, str]:
        """The body (bytes when small, else a chunk iterator) and its framing header line."""
        stream = environ["wsgi.input"]
        length_text = environ.get("CONTENT_LENGTH")
        if length_text:
            try:
                length = int(length_text)
            except ValueError:
                raise errors.bad_request("Invalid Content-Length") from None
            if length <= 0:
                return None, "Content-Length: 0\r\n" if length == 0 else ""
            framing = f"Content-Length: {length}\r\n"
            if length <= self._chunk:
                return self._read_exactly(stream, length), framing
            return self._chunks(stream, length), framing
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return self._chunks(stream, None), "Transfer-Encoding: chunked\r\n"
        return None, ""

    @staticmethod
    def _read_exactly(stream, length: int) -> bytes:
        data = stream.read(length)
        if len(data) != length:
            raise errors.bad_request("Request body shorter than its Content-Length")
        return data

    def _chunks(self, stream, length: int | None) -> Iterator[bytes]:
        remaining = length
        while remaining is None or remaining > 0:
            data = stream.read(self._chunk if remaining is None else min(self._chunk, remaining))
            if not data:
                if remaining:
                    raise StreamAborted("client sent less than its Content-Length")
                return
            if remaining is not None:
                remaining -= len(data)
            yield data

    def _exchange(self, state: ExecutorState, environ: dict, lines: list[str], body, framing: str,
                  deadline: float) -> UpstreamResponse:
        """Send the request to ``state`` and read the response head (retrying a stale socket)."""
        pool = self._pools[state.name]
        chunked = framing.startswith("Transfer")
        head = self._head(environ, state, lines, framing)
        method = environ["REQUEST_METHOD"]
        for fresh_retry in (False, True):
            remaining = deadline - time.monotonic()
            try:
                sock, reused = pool.acquire(remaining)
            except OSError as error:
                raise _ConnectFailed(_describe(error)) from None
            state.inflight += 1
            try:
                if body is None or isinstance(body, bytes):
                    sock.sendall(head + body if body else head)
                else:
                    sock.sendall(head)
                    for block in body:
                        sock.sendall(b"%x\r\n%b\r\n" % (len(block), block) if chunked else block)
                    if chunked:
                        sock.sendall(b"0\r\n\r\n")
                return UpstreamResponse(sock, pool, method, self._chunk)
            except StreamAborted:
                state.inflight -= 1
                sock.close()
                raise errors.bad_request("Request body ended before its announced length") from None
            except (socket.timeout, gevent.Timeout):
                state.inflight -= 1
                sock.close()
                raise errors.timeout(state.name, self._config.max_timeout) from None
            except (OSError, HTTPParseError) as error:
                state.inflight -= 1
                sock.close()
                # A kept-alive socket the executor closed meanwhile says nothing of its health:
                # an idempotent request whose body is still at hand is sent once more on a new one.
                stale = reused and isinstance(error, (HTTPConnectionClosed, ConnectionResetError, BrokenPipeError))
                if stale and not fresh_retry and method in _IDEMPOTENT and not isinstance(body, Iterator):
                    continue
                if not stale:
                    self._monitor.mark_offline(state, _describe(error))
                raise errors.unreachable(state.name, _describe(error)) from None
        raise AssertionError("unreachable")

    def _relay(self, response: UpstreamResponse, state: ExecutorState, start_response,
               deadline: float, client_socket=None) -> Iterable[bytes]:
        connection = response.get("connection")
        named = {token.strip().lower() for token in connection.split(",")} if isinstance(connection, str) else ()
        headers = [(name, value) for name, value in response.items()
                   if name.lower() not in HOP_BY_HOP and name.lower() not in named]
        status = response.status_code
        start_response(f"{status} {response.status_message}" if response.status_message
                       else errors.status_line(status), headers)
        if response.message_complete:  # the whole body came with the head: no stream needed
            state.inflight -= 1
            return [response.read_some()]
        return _ResponseStream(response, state, deadline, self._monitor, client_socket)

    def _broadcast(self, environ: dict, start_response) -> Iterable[bytes]:
        """Send the request to every online executor at once; answer 204 when all are done."""
        targets = self._balancer.online()
        if not targets:
            raise errors.no_executor()
        deadline = time.monotonic() + self._config.max_timeout
        lines = self._head_lines(environ)
        body, framing = self._request_body(environ)
        if body is not None and not isinstance(body, bytes):
            body = b"".join(body)  # every executor gets the same bytes
            framing = f"Content-Length: {len(body)}\r\n"

        def deliver(state: ExecutorState) -> None:
            try:
                response = self._exchange(state, environ, lines, body, framing, deadline)
            except _ConnectFailed as failure:
                self._monitor.mark_offline(state, str(failure))
                return
            except ProxyError as error:
                log.warning("broadcast to %s failed: %s", state.name, error.message)
                return
            try:
                for _ in _ResponseStream(response, state, deadline, self._monitor):
                    pass  # broadcast answers are discarded
            except StreamAborted as error:
                log.warning("broadcast to %s failed: %s", state.name, error)

        gevent.joinall([gevent.spawn(deliver, state) for state in targets])
        start_response("204 No Content", [])
        return []

    def _fail(self, start_response, error: ProxyError, cause: BaseException | None = None) -> list[bytes]:
        body = errors.error_body(error, self._config.version, self._config.development, cause)
        start_response(errors.status_line(error.status),
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


class _ResponseStream:
    """The executor's body as a WSGI iterable, bounded by the request's deadline.

    When the exchange fails mid-response (timeout, executor gone) the client connection is
    shut down, so the client sees an incomplete response instead of a truncated success.
    """

    def __init__(self, response: UpstreamResponse, state: ExecutorState, deadline: float,
                 monitor: HealthMonitor, client_socket=None):
        self._response = response
        self._state = state
        self._deadline = deadline
        self._monitor = monitor
        self._client_socket = client_socket
        self._open = True

    def __iter__(self) -> "_ResponseStream":
        return self

    def __next__(self) -> bytes:
        response = self._response
        remaining = self._deadline - time.monotonic()
        sock = response._sock
        if sock is not None:
            sock.settimeout(max(remaining, 0.001))
        try:
            data = response.read_some()
        except (socket.timeout, gevent.Timeout):
            self._abort(f"executor {self._state.name} exceeded the request timeout mid-response")
        except (OSError, HTTPParseError) as error:
            self._monitor.mark_offline(self._state, _describe(error))
            self._abort(f"executor {self._state.name} failed mid-response: {_describe(error)}")
        if not data:
            self.close()
            raise StopIteration
        return data

    def _abort(self, reason: str):
        self.close()
        log.warning("%s; closing the client connection", reason)
        if self._client_socket is None:
            raise StreamAborted(reason)
        try:
            self._client_socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        # The server's final write now fails with EPIPE, which it treats as a client gone.
        raise StopIteration

    def close(self) -> None:
        if self._open:
            self._open = False
            self._state.inflight -= 1
            self._response.release()


def _describe(error: BaseException) -> str:
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "connection timed out"
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return text
