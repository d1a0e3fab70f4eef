"""Checklist 9.3, Responses: what each response helper puts on the wire."""
from .client import bodiless_exchange, call, head_lines, request_headers


def test_plaintext_response(server):
    reply = call(server.port, "plaintextResponse")
    assert reply.status == 200, reply.describe()
    assert reply.text == "Hello World 👋"
    assert reply.header("content-type") == "text/plain; charset=utf-8"


def test_json_response(server):
    reply = call(server.port, "jsonResponse")
    assert reply.status == 200, reply.describe()
    assert reply.header("content-type") == "application/json; charset=utf-8"
    payload = reply.json()
    assert payload["json"] is True
    assert payload["message"] == "Developers are awesome."


def test_custom_charset_response(server):
    reply = call(server.port, "customCharsetResponse")
    assert reply.status == 200, reply.describe()
    assert reply.header("content-type") == "text/plain; charset=iso-8859-1"


def test_multipart_response(server):
    reply = call(server.port, "multipartResponse")
    assert reply.status == 200, reply.describe()
    assert reply.header("content-type") == "multipart/form-data; boundary=12345"
    assert "Why just have one part?" in reply.text


def test_redirect_response(server):
    reply = call(server.port, "redirectResponse")
    assert reply.status == 301, reply.describe()
    assert reply.body == b""
    assert reply.header("location") == "https://github.com/"
    assert reply.header("content-type") == "text/plain; charset=utf-8"


def test_empty_response(server):
    # Raw, because http.client never reads the body of a 204 response.
    headers = request_headers("emptyResponse", {"host": f"127.0.0.1:{server.port}", "content-length": "0"})
    head, rest = bodiless_exchange(server.port, head_lines("POST", "/", headers))
    assert head.startswith("HTTP/1.1 204 ") or head.startswith("HTTP/1.0 204 "), head
    assert rest == b"", f"body bytes after a 204 response: {rest[:200]!r}"


def test_no_response_is_a_user_error(server):
    reply = call(server.port, "noResponse")
    assert reply.status == 500, reply.describe()
    assert reply.body == b""
    assert "Return statement missing." in reply.errors


def test_double_response_returns_the_returned_one(server):
    reply = call(server.port, "doubleResponse")
    assert reply.status == 200, reply.describe()
    assert reply.text == "This should be returned."


def test_status_response(server):
    reply = call(server.port, "statusResponse")
    assert reply.status == 404, reply.describe()
    assert reply.text == "FAIL"
