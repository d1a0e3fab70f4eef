"""Checklist 9.3, Bodies and environment."""
from .client import call, exchange, head_lines, request_headers

def test_plaintext_body(server):
    reply = call(server.port, "requestBodyPlaintext", body="Hello 👋")
    assert reply.status == 200, reply.describe()
    assert reply.text == "Hello 👋"


def test_empty_body(server):
    reply = call(server.port, "requestBodyPlaintext", body=b"")
    assert reply.status == 200, reply.describe()
    assert reply.text == ""


def test_no_body_at_all(server):
    # No Content-Length and no Transfer-Encoding: a body of zero bytes (RFC 9112 6.3).
    headers = request_headers("requestBodyPlaintext", {"host": f"127.0.0.1:{server.port}"})
    reply = exchange(server.port, head_lines("POST", "/", headers))
    assert reply is not None and reply.status == 200, reply and reply.describe()
    assert reply.text == ""


def test_json_body(server):
    raw = '{"key1":"OK","key2":"👋","key3":"value3"}'
    reply = call(server.port, "requestBodyJson", body=raw, headers={"content-type": "application/json"})
    assert reply.status == 200, reply.describe()
    payload = reply.json()
    assert payload["key1"] == "OK"
    assert payload["key2"] == "👋"
    assert payload["raw"] == raw


def test_json_text_as_plain_text_is_not_parsed(server):
    reply = call(server.port, "requestBodyJson", body='{"data":"OK"}')
    assert reply.status == 200, reply.describe()
    payload = reply.json()
    assert payload["key1"] == "Missing key"
    assert payload["key2"] == "Missing key"
    assert payload["raw"] == '{"data":"OK"}'


def test_empty_json_body_is_an_empty_map(server):
    reply = call(server.port, "requestBodyJson", body=b"",
                 headers={"content-type": "application/json; charset=utf-8"})
    assert reply.status == 200, reply.describe()
    payload = reply.json()
    assert payload["key1"] == "Missing key"
    assert payload["key2"] == "Missing key"
    assert payload["raw"] == ""


def test_invalid_json_body_is_an_internal_error(server):
    reply = call(server.port, "plaintextResponse", body='{"invaludJson:true}',
                 headers={"content-type": "application/json"})
    assert reply.status == 500, reply.describe()
    assert reply.body == b""
    assert reply.logs == ""
    assert "Invalid JSON body." in reply.errors


def test_empty_body_with_json_content_type(server):
    reply = call(server.port, "plaintextResponse", body=b"", headers={"content-type": "application/json"})
    assert reply.status == 200, reply.describe()
    assert reply.text == "Hello World 👋"


def test_env_vars(server):
    reply = call(server.port, "envVars")
    assert reply.status == 200, reply.describe()
    assert reply.header("content-type") == "application/json; charset=utf-8"
    payload = reply.json()
    assert payload["var"] == "customValue"
    assert payload["emptyVar"] is None
