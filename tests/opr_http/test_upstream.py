"""The keep-alive pool and response of opr_http.upstream, against a real socket server."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from opr_http.upstream import ConnectionPool, UpstreamResponse

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
DROP = None      # read the next request, then close without answering
CLOSE = "close"  # close at once, while the client's connection is idle


class Server:
    """A loopback HTTP server answering each request with the next scripted reply."""

    def __init__(self, replies_per_connection):
        self.replies = list(replies_per_connection)  # one list of replies per connection
        self.connections = 0
        self.requests: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        for replies in self.replies:
            conn, _ = self.listener.accept()
            self.connections += 1
            with conn:
                for reply in replies:
                    if reply == CLOSE:
                        break
                    data = b""
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    self.requests.append(data)
                    if reply is DROP:
                        break
                    conn.sendall(reply)
                else:
                    conn.recv(1)  # wait until the client closes

    def close(self):
        self.listener.close()


@pytest.fixture
def server(request):
    made = Server(request.param)
    yield made
    made.close()


def get(pool: ConnectionPool) -> tuple[bytes, bool]:
    sock, reused = pool.acquire(5)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    response = UpstreamResponse(sock, pool, "GET", 65536)
    body = response.read()
    response.release()
    return body, reused


@pytest.mark.parametrize("server", [[[OK, OK]]], indirect=True)
def test_a_kept_alive_connection_is_reused(server):
    pool = ConnectionPool("127.0.0.1", server.port, 5, 4)
    assert get(pool) == (b"ok", False)
    assert get(pool) == (b"ok", True)
    assert server.connections == 1
    pool.close()


@pytest.mark.parametrize("server", [[[OK], [OK]]], indirect=True)
def test_a_connection_idle_too_long_is_not_reused(server):
    pool = ConnectionPool("127.0.0.1", server.port, 5, 4, max_idle_seconds=0.05)
    assert get(pool) == (b"ok", False)
    time.sleep(0.1)
    assert get(pool) == (b"ok", False)
    pool.close()


@pytest.mark.parametrize("server", [[[OK, CLOSE], [OK]]], indirect=True)
def test_a_connection_closed_by_the_peer_is_not_reused(server):
    pool = ConnectionPool("127.0.0.1", server.port, 5, 4)
    assert get(pool) == (b"ok", False)
    time.sleep(0.1)  # the server closes the idle connection meanwhile
    assert get(pool) == (b"ok", False)
    assert server.connections == 2
    pool.close()


@pytest.mark.parametrize("server", [[[b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", None]]],
                         indirect=True)
def test_an_incomplete_response_does_not_return_its_socket(server):
    pool = ConnectionPool("127.0.0.1", server.port, 5, 4)
    sock, _ = pool.acquire(5)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    response = UpstreamResponse(sock, pool, "GET", 65536)
    assert response.status_code == 200
    response.release()  # body not read: the connection cannot carry another request
    assert sock.fileno() == -1
    pool.close()


@pytest.mark.parametrize("server", [[[OK]]], indirect=True)
def test_a_socket_released_after_close_is_closed(server):
    pool = ConnectionPool("127.0.0.1", server.port, 5, 4)
    sock, _ = pool.acquire(5)
    pool.close()
    pool.release(sock, reusable=True)
    assert sock.fileno() == -1
