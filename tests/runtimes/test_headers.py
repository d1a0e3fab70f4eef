"""Checklist 9.3, Headers: user headers in and out, and the reserved x-open-runtimes- prefix."""
from .client import call

COOKIE = "cookieName=cookieValue; cookie2=value2; cookie3=value=3; cookie4=val:ue4; cookie5=value5"


def test_headers_response(server):
    reply = call(server.port, "headersResponse", headers={
        "x-open-runtimes-custom-in-header": "notMissing",
        "cookie": COOKIE,
    })
    assert reply.status == 200, reply.describe()
    assert reply.text == "OK"
    assert reply.header("first-header") == "first-value"
    # The reserved request header is hidden from the function ...
    assert reply.header("second-header") == "missing"
    assert reply.header("cookie") == COOKIE
    # ... and the reserved response header never leaves the runtime.
    assert reply.header("x-open-runtimes-custom-out-header") is None


def test_request_headers(server):
    reply = call(server.port, "requestHeaders", headers={
        "x-first-header": "first-value",
        "x-open-runtimes-custom-header": "should-be-hidden",
        "X-Mixed-Case": "yes",
    })
    assert reply.status == 200, reply.describe()
    assert reply.header("content-type") == "application/json; charset=utf-8"
    headers = reply.json()
    assert headers["x-action"] == "requestHeaders"
    assert headers["x-first-header"] == "first-value"
    assert headers["x-mixed-case"] == "yes"
    assert [name for name in headers if name.startswith("x-open-runtimes-")] == []
