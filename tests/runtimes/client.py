"""The harness's HTTP client (spec 9.1) and the raw-socket exchanges some checks need."""
from __future__ import annotations

import http.client
import json
import select
import socket
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from .instances import SECRET

TIMEOUT = 5.0
DEFAULT_HEADERS = {"content-type": "text/plain", "x-open-runtimes-secret": SECRET}


def form_decode(raw: str) -> str:
    """Form-decode a log header (``%XX``, ``+`` -> space); the bytes must be valid UTF-8."""
    return unquote_to_bytes(raw.replace("+", " ")).decode("utf-8")


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]     # lower-cased names; repeated headers joined with ", "

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def logs(self) -> str | None:
        """``x-open-runtimes-logs``, form-decoded; None when absent."""
        raw = self.header("x-open-runtimes-logs")
        return None if raw is None else form_decode(raw)

    @property
    def errors(self) -> str | None:
        raw = self.header("x-open-runtimes-errors")
        return None if raw is None else form_decode(raw)

    def describe(self) -> str:
        return (f"status {self.status}, headers {self.headers}, body {self.body[:300]!r}, "
                f"logs {self.logs!r:.600}, errors {self.errors!r:.2000}")


def _reply(response: http.client.HTTPResponse) -> Reply:
    headers: dict[str, str] = {}
    for name, value in response.getheaders():
        name = name.lower()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return Reply(response.status, response.read(), headers)


def request_headers(action: str | None, headers: dict | None) -> dict[str, str]:
    """The default headers, the action, then ``headers`` (a value of None removes one)."""
    merged = dict(DEFAULT_HEADERS)
    if action is not None:
        merged["x-action"] = action
    for name, value in (headers or {}).items():
        merged.pop(name.lower(), None)
        if value is not None:
            merged[name.lower() if name.lower() in DEFAULT_HEADERS else name] = value
    return merged


def call(port: int, action: str | None = None, *, method: str = "POST", path: str = "/",
         body: bytes | str | None = b"", headers: dict | None = None,
         timeout: float = TIMEOUT) -> Reply:
    """One request on a new connection to 127.0.0.1:``port``; redirects are not followed."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    path = path.split("#", 1)[0]  # clients strip fragments
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=request_headers(action, headers))
        return _reply(connection.getresponse())
    finally:
        connection.close()


def call_chunked(port: int, action: str, chunks: list[bytes], headers: dict | None = None) -> Reply:
    """A request whose body goes out with ``Transfer-Encoding: chunked``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("POST", "/", body=iter(chunks), headers=request_headers(action, headers),
                           encode_chunked=True)
        return _reply(connection.getresponse())
    finally:
        connection.close()


def head_lines(method: str, path: str, headers: dict[str, str], version: str = "HTTP/1.1") -> bytes:
    """A request line and headers, as raw bytes."""
    lines = [f"{method} {path} {version}"] + [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def exchange(port: int, data: bytes, method: str = "POST", timeout: float = TIMEOUT) -> Reply | None:
    """Send raw bytes, read one response; None when the server closes without answering."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock, method=method)
        try:
            response.begin()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            return None
        return _reply(response)


def bodiless_exchange(port: int, data: bytes, settle: float = 0.5) -> tuple[str, bytes]:
    """Send raw bytes for a response that must carry no body (HEAD, 204): the response head,
    and whatever bytes follow it within ``settle`` seconds (http.client would not read them)."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        head, _, rest = received.partition(b"\r\n\r\n")
        sock.settimeout(settle)
        try:
            while chunk := sock.recv(65536):
                rest += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return head.decode("latin-1"), rest


def send_sized(port: int, action: str, size: int, timeout: float = 30.0) -> Reply | None:
    """POST a body of ``size`` bytes, stopping early if the server answers (or closes) first.

    A server may reject a too-large ``Content-Length`` without reading the body (spec 1.5), so
    the body goes out in pieces and the response is read as soon as one is there.
    """
    headers = request_headers(action, {"content-length": str(size), "host": f"127.0.0.1:{port}"})
    piece = b"x" * 65536
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head_lines("POST", "/", headers))
        sent = 0
        try:
            while sent < size:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                chunk = piece[: min(len(piece), size - sent)]
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = http.client.HTTPResponse(sock, method="POST")
        try:
            response.begin()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            return None
        return _reply(response)
