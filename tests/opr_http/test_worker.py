"""The worker's request-header parser: what pywsgi relies on, and strict rejection."""
import io

import pytest

from opr_http.worker import MAX_HEADERS, RequestHeaders


def parse(raw: bytes) -> RequestHeaders:
    return RequestHeaders.parse(io.BytesIO(raw))


def test_fields_values_and_lookups():
    headers = parse(b"Host: a\r\nContent-Type:  text/plain \r\nX-Multi: 1\r\nx-multi: 2\r\nEmpty:\r\n\r\nbody")
    assert headers.status == ""
    assert headers.fields == [("Host", "a"), ("Content-Type", "text/plain"), ("X-Multi", "1"),
                              ("x-multi", "2"), ("Empty", "")]
    assert headers.get("content-type") == "text/plain" and headers.typeheader == "text/plain"
    assert headers.getheader("X-MULTI") == "1" and headers.get("missing", "d") == "d"
    assert "host" in headers and "nope" not in headers
    del headers["x-multi"]
    assert headers.get("x-multi") is None
    with pytest.raises(KeyError):
        del headers["x-multi"]
    assert headers.headers == ["Host: a\r\n", "Content-Type: text/plain\r\n", "Empty: \r\n"]


@pytest.mark.parametrize("raw", [
    b"Bad Name: x\r\n\r\n",            # space in the name
    b"Name : x\r\n\r\n",               # space before the colon (request smuggling vector)
    b"X: a\r\n folded\r\n\r\n",        # obsolete line folding
    b"X: a\rb\r\n\r\n",                # bare CR in a value
    b"X: a\x00b\r\n\r\n",              # NUL in a value
    b"NoColon\r\n\r\n",
    b"X: " + b"a" * 70000 + b"\r\n\r\n",
    b"".join(b"X%d: v\r\n" % i for i in range(MAX_HEADERS + 1)) + b"\r\n",
])
def test_malformed_headers_are_rejected(raw):
    assert parse(raw).status != ""
