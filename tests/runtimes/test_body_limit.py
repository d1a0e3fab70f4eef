"""Checklist 9.3, Body limit (20 MiB inclusive), and the framing every runtime must accept."""
from .client import call, call_chunked, exchange, head_lines, request_headers, send_sized

LIMIT = 20971520
TOO_LARGE = "Request body too large. The limit is 20971520 bytes (20 MiB)."


def test_body_at_the_limit(server):
    reply = call(server.port, "bodyLength", body=b"x" * LIMIT, timeout=30.0)
    assert reply.status == 200, reply.describe()
    assert reply.text == str(LIMIT)


def test_body_over_the_limit(server):
    reply = send_sized(server.port, "bodyLength", LIMIT + 1)
    assert reply is not None, "connection closed without the 413 response"
    assert reply.status == 413, reply.describe()
    assert reply.text == TOO_LARGE
    assert reply.header("x-open-runtimes-logs") is None
    assert reply.header("x-open-runtimes-errors") is None
    reply = call(server.port, "plaintextResponse")
    assert reply.status == 200, reply.describe()


def test_chunked_body(server):
    # Spec 1.1.6: chunked request bodies must be accepted.
    reply = call_chunked(server.port, "bodyLength", [b"a" * 1000, "👋".encode(), b"b" * 5])
    assert reply.status == 200, reply.describe()
    assert reply.text == "1009"


def test_expect_100_continue(server):
    # Spec 1.1.6: `Expect: 100-continue` is answered with 100 Continue (or a final response).
    headers = request_headers("bodyLength", {"host": f"127.0.0.1:{server.port}",
                                             "content-length": "5", "expect": "100-continue"})
    reply = exchange(server.port, head_lines("POST", "/", headers) + b"hello")
    assert reply is not None and reply.status == 200, reply and reply.describe()
    assert reply.text == "5"
