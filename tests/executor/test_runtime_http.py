"""Requests to a runtime (executor/runtime_http.py) against a real socket server: the head it
writes, and a kept-alive connection the runtime dropped meanwhile."""
from __future__ import annotations

import pytest

from executor import runtime_http
from opr_http.upstream import ConnectionPool, HTTPConnectionClosed
from tests.opr_http.test_upstream import DROP, OK, Server


def test_request_head_and_body():
    server = Server([[OK]])
    pool = ConnectionPool("127.0.0.1", server.port, 5, 4)
    try:
        response, body = runtime_http.request(pool, "POST", "/a?b=c", {"x-one": "1"}, b"hello")
        assert (response.status_code, body) == (200, b"ok")
    finally:
        pool.close()
        server.close()
    head = server.requests[0].decode("latin-1")
    assert head.startswith(f"POST /a?b=c HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n")
    assert "x-one: 1\r\n" in head and "Content-Length: 5\r\n\r\n" in head


@pytest.mark.parametrize("method, retried", [("GET", True), ("PUT", True), ("POST", False)])
def test_a_dropped_kept_alive_connection(method, retried):
    # First connection: one answer, then the next request is dropped unanswered (the runtime
    # closed it at that very moment). Second connection: answers.
    server = Server([[OK, DROP], [OK]])
    pool = ConnectionPool("127.0.0.1", server.port, 5, 4)
    try:
        assert runtime_http.request(pool, method, "/", {})[1] == b"ok"
        if retried:
            assert runtime_http.request(pool, method, "/", {})[1] == b"ok"
            assert server.connections == 2
        else:  # sending it twice could run the function twice
            with pytest.raises((HTTPConnectionClosed, ConnectionResetError, BrokenPipeError)):
                runtime_http.request(pool, method, "/", {})
    finally:
        pool.close()
        server.close()
