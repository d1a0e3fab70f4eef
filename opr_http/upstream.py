"""Keep-alive connections to one upstream, and a response that streams what arrives.

A deliberately small client for hot paths: the caller writes the request head itself (it has
validated the headers already) and geventhttpclient's C parser (llhttp) reads the response, so
one request costs one ``sendall`` and a few ``recv`` calls. The proxy talks to executors with
it, the executor to runtimes.
"""
from __future__ import annotations

import socket
import time

from gevent import socket as gsocket
from geventhttpclient.response import HTTPConnectionClosed, HTTPParseError, HTTPSocketResponse

__all__ = ["ConnectionPool", "UpstreamResponse", "HTTPConnectionClosed", "HTTPParseError"]


class ConnectionPool:
    """Idle keep-alive sockets to one upstream (LIFO, at most ``max_idle`` kept).

    A socket idle for ``max_idle_seconds`` or more is closed instead of reused: servers drop
    idle connections after a while (Node after 5 s), and one dropped while a request is being
    written on it fails that request."""

    def __init__(self, host: str, port: int, connect_timeout: float, max_idle: int,
                 max_idle_seconds: float = 4.0):
        self.host, self.port = host, port
        self._connect_timeout = connect_timeout
        self._max_idle = max_idle
        self._max_idle_seconds = max_idle_seconds
        self._idle: list[tuple[gsocket.socket, float]] = []
        self._closed = False

    def acquire(self, timeout: float) -> tuple[gsocket.socket, bool]:
        """A connected socket and whether it was reused; raises OSError when connecting fails."""
        oldest = time.monotonic() - self._max_idle_seconds
        while self._idle:
            sock, since = self._idle.pop()
            if since > oldest and _alive(sock):
                sock.settimeout(timeout)
                return sock, True
            sock.close()
        sock = gsocket.create_connection((self.host, self.port),
                                         timeout=min(self._connect_timeout, timeout))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(timeout)
        return sock, False

    def release(self, sock: gsocket.socket, reusable: bool) -> None:
        if reusable and not self._closed and len(self._idle) < self._max_idle:
            self._idle.append((sock, time.monotonic()))
        else:
            sock.close()

    def close(self) -> None:
        """Close the idle sockets; sockets in use are closed when they are released."""
        self._closed = True
        while self._idle:
            self._idle.pop()[0].close()


def _alive(sock: gsocket.socket) -> bool:
    # An idle keep-alive socket has nothing to read: a peek on the underlying non-blocking
    # socket (no trip through the gevent hub) says EOF (closed by the peer), junk, or idle.
    try:
        sock._sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return True
    except (OSError, ValueError, AttributeError):
        return False
    return False


class UpstreamResponse(HTTPSocketResponse):
    """The executor's response: headers parsed on creation, body read as it arrives."""

    def __init__(self, sock: gsocket.socket, pool: ConnectionPool, method: str, block_size: int):
        self._pool: ConnectionPool | None = pool
        super().__init__(sock, block_size=block_size, method=method)

    def read_some(self) -> bytes:
        """The body bytes available now (waiting for at least one); ``b""`` at the end."""
        while not self._body_buffer:
            sock = self._sock
            if self.message_complete or sock is None:
                return b""
            try:
                data = sock.recv(self.block_size)
                self.feed(data)  # b"" tells the parser about EOF, which ends a close-delimited body
                if not data and not self.message_complete:
                    raise HTTPConnectionClosed("executor closed the connection mid-response")
            except BaseException:
                self.release()
                raise
        data = bytes(self._body_buffer)
        del self._body_buffer[:]
        return data

    def release(self) -> None:
        """Give the socket back to the pool when the exchange is complete, else close it."""
        pool, sock = self._pool, self._sock
        self._sock = None
        self._pool = None
        if sock is not None and pool is not None:
            pool.release(sock, reusable=self.message_complete and not self.should_close())

    def __del__(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
