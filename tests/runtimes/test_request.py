"""Checklist 9.3, Request fields: method, URL parts and query, from the request line and Host."""
import pytest

from .client import bodiless_exchange, call, head_lines, request_headers


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
def test_request_method(server, method):
    reply = call(server.port, "requestMethod", method=method)
    assert reply.status == 200, reply.describe()
    assert reply.text == method


def test_request_method_head(server):
    # Raw, because http.client never reads the body of a HEAD response.
    headers = request_headers("requestMethod", {"host": f"127.0.0.1:{server.port}"})
    head, rest = bodiless_exchange(server.port, head_lines("HEAD", "/", headers))
    assert head.startswith("HTTP/1.1 200 ") or head.startswith("HTTP/1.0 200 "), head
    assert rest == b"", f"body bytes after a HEAD response: {rest[:200]!r}"


def request_url(port: int, path: str = "/", **headers) -> dict:
    reply = call(port, "requestUrl", path=path,
                 headers={name.replace("_", "-"): value for name, value in headers.items()})
    assert reply.status == 200, reply.describe()
    return reply.json()


def test_request_url_of_the_listening_port(server):
    # Also proves the runtime listens where OPEN_RUNTIMES_HOST / OPEN_RUNTIMES_PORT say.
    url = request_url(server.port)
    assert url["port"] == server.port
    assert url["path"] == "/"
    assert url["query"] in ({}, [])
    assert url["queryString"] == ""
    assert url["scheme"] == "http"
    assert url["host"] == "127.0.0.1"
    assert url["url"] == f"http://127.0.0.1:{server.port}/"


def test_request_url_from_host_and_forwarded_proto(server):
    url = request_url(server.port, "/a/b?c=d&e=f#something",
                      x_forwarded_proto="https", host="www.mydomain.com:3001")
    assert url["port"] == 3001
    assert url["path"] == "/a/b"
    assert url["query"] == {"c": "d", "e": "f"}
    assert url["queryString"] == "c=d&e=f"
    assert url["scheme"] == "https"
    assert url["host"] == "www.mydomain.com"
    assert url["url"] == "https://www.mydomain.com:3001/a/b?c=d&e=f"


def test_request_url_default_port_is_omitted(server):
    url = request_url(server.port, host="www.mydomain.com:80")
    assert url["port"] == 80
    assert url["url"] == "http://www.mydomain.com/"


def test_request_query_parsing(server):
    url = request_url(server.port, "/?a=b&c==d&e=f=g=&h&i=j&&k")
    assert url["query"]["a"] == "b"
    assert url["query"]["c"] == "=d"
    assert url["query"]["e"] == "f=g="
    assert url["query"]["h"] == ""
    assert url["query"]["i"] == "j"
    assert url["query"]["k"] == ""
    assert "l" not in url["query"]
    assert url["queryString"] == "a=b&c==d&e=f=g=&h&i=j&&k"


@pytest.mark.parametrize("host, proto, port, expected", [
    ("myapp.com", "https", 443, "https://myapp.com/"),
    ("myapp.com:443", "https", 443, "https://myapp.com/"),
    ("myapp.com:80", "https", 80, "https://myapp.com:80/"),
    ("myapp.com:80", "http", 80, "http://myapp.com/"),
], ids=["https-no-port", "https-443", "https-80", "http-80"])
def test_request_url_ports_and_schemes(server, host, proto, port, expected):
    url = request_url(server.port, host=host, x_forwarded_proto=proto)
    assert url["port"] == port
    assert url["url"] == expected


def test_request_path_and_query_stay_raw(server):
    url = request_url(server.port, "/caf%C3%A9/x?name=J%C3%BCrgen&sum=a+b")
    assert url["path"] == "/caf%C3%A9/x"
    assert url["query"]["name"] == "J%C3%BCrgen"
    assert url["query"]["sum"] == "a+b"


def test_request_ipv6_host(server):
    url = request_url(server.port, host=f"[::1]:{server.port}")
    assert url["host"] == "[::1]"
    assert url["port"] == server.port
