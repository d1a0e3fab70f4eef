"""Keep-alive connections to one executor, and a response that streams what arrives.

A deliberately small client for the hot path: the proxy writes the request head itself (the
WSGI server already validated the client's headers) and lets geventhttpclient's C parser
(llhttp) read the response, so one request costs one ``sendall`` and a few ``recv`` calls.
"""
from __future__ import annotations

import socket

from gevent import socket as gsocket
from geventhttpclient.response import HTTPConnectionClosed, HTTPSocketResponse

from proxy.config import Executor

__all__ = ["ConnectionPool", "UpstreamResponse", "HTTPConnectionClosed"]


class ConnectionPool:
    """Idle keep-alive sockets to one executor (LIFO, at most ``max_idle`` kept)."""

    def __init__(self, executor: Executor, connect_timeout: float, max_idle: int):
        self.executor = executor
        self._connect_timeout = connect_timeout
        self._max_idle = max_idle
        self._idle: list[gsocket.socket] = []

    def acquire(self, timeout: float) -> tuple[gsocket.socket, bool]:
        """A connected socket and whether it was reused; raises OSError when connecting fails."""
        while self._idle:
            sock = self._idle.pop()
            if _alive(sock):
                sock.settimeout(timeout)
                return sock, True
            sock.close()
        sock = gsocket.create_connection((self.executor.host, self.executor.port),
                                         timeout=min(self._connect_timeout, timeout))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(timeout)
        return sock, False

    def release(self, sock: gsocket.socket, reusable: bool) -> None:
        if reusable and len(self._idle) < self._max_idle:
            self._idle.append(sock)
        else:
            sock.close()

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


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
            pool.release(sock, reusable=not self.should_close())

    def __del__(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
