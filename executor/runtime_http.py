"""HTTP/1.1 requests to a runtime, over its pool of keep-alive connections.

The request head is written here in one piece (names and values were checked by
:func:`executor.executions.forwarded_headers`); the response is parsed by geventhttpclient's
C parser (:mod:`opr_http.upstream`). Timeouts are the caller's: it wraps calls in
``gevent.Timeout``.
"""
from __future__ import annotations

from opr_http.upstream import ConnectionPool, HTTPConnectionClosed, UpstreamResponse

from executor.adapters.base import Instance

POOL_SIZE = 256                 # idle connections kept per runtime (the runtimes serve >= 16)
CONNECT_SECONDS = 30
SOCKET_SECONDS = 24 * 3600      # only bounds a runtime that never answers; calls have their own
BLOCK_SIZE = 65536
# A request on a kept-alive connection the runtime closed meanwhile is sent once more on a new
# one, when sending it twice cannot do harm (as geventhttpclient and browsers do).
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


def client_for(instance: Instance) -> ConnectionPool:
    """The keep-alive connections of a runtime."""
    return ConnectionPool(instance.host, instance.port, CONNECT_SECONDS, POOL_SIZE)


def request(pool: ConnectionPool, method: str, path: str, headers: dict[str, str],
            body: bytes = b"") -> tuple[UpstreamResponse, bytes]:
    """Send one request; the response (headers parsed, connection released) and its body."""
    lines = [f"{method} {path} HTTP/1.1\r\nHost: {pool.host}:{pool.port}\r\n"]
    lines.extend(f"{name}: {value}\r\n" for name, value in headers.items())
    lines.append(f"Content-Length: {len(body)}\r\n\r\n")
    message = "".join(lines).encode("latin-1") + body
    for retry in (False, True):
        sock, reused = pool.acquire(SOCKET_SECONDS)
        try:
            sock.sendall(message)
            response = UpstreamResponse(sock, pool, method, BLOCK_SIZE)
        except (HTTPConnectionClosed, ConnectionResetError, BrokenPipeError):
            sock.close()
            if reused and not retry and method in IDEMPOTENT:
                continue
            raise
        except BaseException:
            sock.close()
            raise
        try:
            data = response.read() if method != "HEAD" else b""
        finally:
            response.release()
        return response, data
    raise AssertionError("unreachable")
