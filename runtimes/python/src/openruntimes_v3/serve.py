"""The listener: binding, one thread per connection, keep-alive and signals (spec 1.1)."""
import os
import sys
import threading
import time

# The C modules behind ``signal`` and ``socket``: the Python wrappers import enum and
# selectors, about a fifth of the server's start-up time (rule 1.1.4).
import _signal
import _socket

from . import capture
from .app import App
from .config import Config, ConfigError
from .wire import BadRequest, ConnectionClosed, Reader, parse_head, response_bytes

IDLE_TIMEOUT = 5.0  # seconds a kept-alive connection may wait for its next request
READ_TIMEOUT = 60.0  # seconds without a byte while a request is being received
DRAIN_LIMIT = 64 * 1024 * 1024  # bytes read and dropped after answering without the body
DRAIN_SECONDS = 10.0


def main():
    """Start the server from the environment; exits non-zero if it cannot listen."""
    try:
        config = Config.from_environ(os.environ)
    except ConfigError as error:
        sys.stderr.write(f"Cannot start the server: {error}\n")
        sys.exit(1)
    try:
        listener = _listen(config.host, config.port)
    except OSError as error:
        reason = error.strerror or str(error)
        sys.stderr.write(f"Cannot listen on {config.host} port {config.port}: {reason}.\n")
        sys.exit(1)
    # The secret was read; user code and its child processes must not see it (spec 1.3).
    os.environ.pop("OPEN_RUNTIMES_SECRET", None)
    if config.pool:
        os.environ.pop("OPEN_RUNTIMES_POOL")  # the function runs as in a normally started runtime
    sys.path.insert(0, config.function_dir)
    capture.install()
    _signal.signal(_signal.SIGTERM, _exit)
    _signal.signal(_signal.SIGINT, _exit)
    _accept_forever(listener, App(config))


def _listen(host, port):
    family, _, _, _, address = _socket.getaddrinfo(
        host, port, 0, _socket.SOCK_STREAM, 0, _socket.AI_PASSIVE)[0]
    sock = _socket.socket(family, _socket.SOCK_STREAM)
    try:
        sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    return sock


def _exit(signum, frame):
    """Stop at once on SIGTERM/SIGINT, abandoning calls in flight (rule 1.1.8)."""
    for stream in (sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)


def _accept_forever(listener, app):
    while True:
        try:
            conn = _socket.socket(fileno=listener._accept()[0])
        except OSError:  # e.g. out of file descriptors: back off, keep serving
            time.sleep(0.05)
            continue
        try:
            threading.Thread(target=_serve, args=(conn, app), daemon=True).start()
        except RuntimeError:  # cannot start a thread
            conn.close()


def _serve(conn, app):
    """Serve the requests of one connection, one after the other."""
    reader = Reader(conn)
    try:
        conn.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        while True:
            conn.settimeout(IDLE_TIMEOUT)
            try:
                raw = reader.read_head()
                conn.settimeout(READ_TIMEOUT)
                head = parse_head(raw)
            except BadRequest as error:
                message = "Request Header Fields Too Large" if error.status == 431 else "Bad Request"
                conn.sendall(response_bytes(
                    error.status, [("content-type", "text/plain; charset=utf-8")],
                    message.encode(), keep_alive=False))
                _drain_and_close(conn, 0)
                return
            try:
                reply = app.handle(head, reader, conn)
            except BadRequest:  # a malformed chunked body
                conn.sendall(response_bytes(
                    400, [("content-type", "text/plain; charset=utf-8")], b"Bad Request",
                    keep_alive=False))
                _drain_and_close(conn, 0)
                return
            conn.sendall(reply.data)
            if reply.body_unread:
                _drain_and_close(conn, head.content_length or DRAIN_LIMIT)
                return
            if not reply.keep_alive:
                return
    except (ConnectionClosed, OSError):  # peer gone, reset or timed out
        pass
    finally:
        conn.close()


def _drain_and_close(conn, expected):
    """Read and drop what the client still sends, so it can read our answer before the close.

    Closing a socket with unread data makes the kernel reset the connection, and a client
    still sending its body would then lose the response (a "lingering close").
    """
    try:
        conn.shutdown(_socket.SHUT_WR)
        conn.settimeout(1.0)
        deadline = time.monotonic() + DRAIN_SECONDS
        left = min(expected, DRAIN_LIMIT) + 65536
        while left > 0 and time.monotonic() < deadline:
            data = conn.recv(min(left, 1 << 20))
            if not data:
                break
            left -= len(data)
    except OSError:
        pass
