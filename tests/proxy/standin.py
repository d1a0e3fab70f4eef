"""A small real HTTP server standing in for an executor in the proxy's tests.

    python -m tests.proxy.standin --port 8001 --name a [--secret s]

* ``GET /v1/health``: ``{"status", "usage", "runtimes"}`` as set by ``POST /_control``;
* ``GET /v1/runtimes/<id>/logs``: a ``text/event-stream`` of ``n`` events, ``delay`` s apart;
* ``GET /stream?n=&delay=``: a chunked body produced piece by piece;
* ``GET /big?size=``: ``size`` bytes with a Content-Length;
* ``GET /slow?delay=``: answers after ``delay`` s; ``/hangup``: closes without answering;
* ``?gated=1`` on streams: the first piece, then the rest once ``{"gate": "open"}`` is posted;
* ``GET /_stats``: requests served per path kind; ``POST /_control``: JSON to change health;
* anything else: JSON echo of method, path, query, headers, body length and sha256
  (``?raw=1`` echoes the body itself).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class State:
    def __init__(self, name: str, secret: str):
        self.name = name
        self.secret = secret
        self.lock = threading.Lock()
        self.health = {"status": "pass", "usage": 10, "runtimes": {}}
        self.health_http_status = 200
        self.served = 0
        self.health_checks = 0
        self.health_auth: list[str] = []
        self.gate = threading.Event()  # gated streams send their first piece, then wait for it
        self.peers: set[int] = set()  # client ports of forwarded requests: one per TCP connection
        self.paths: list[str] = []  # of forwarded (non-health, non-control) requests, last 100


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "standin"
    state: State

    def log_message(self, *args) -> None:  # quiet
        pass

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str = "application/json", extra=()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _chunked(self, pieces, delay: float, content_type: str, gated: bool = False) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        for index, piece in enumerate(pieces):
            if index == 1 and gated:
                self.state.gate.wait(30)
            if index:
                time.sleep(delay)
            self.wfile.write(b"%x\r\n%b\r\n" % (len(piece), piece))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def handle_one(self) -> None:
        state = self.state
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        body = self._body()
        if url.path == "/v1/health":
            with state.lock:
                state.health_checks += 1
                state.health_auth.append(self.headers.get("Authorization", ""))
                payload, status = json.dumps(state.health).encode(), state.health_http_status
            self._send(status, payload)
            return
        if url.path == "/_control":
            change = json.loads(body or b"{}")
            gate = change.pop("gate", None)
            if gate is not None:
                state.gate.set() if gate == "open" else state.gate.clear()
            with state.lock:
                state.health_http_status = change.pop("http_status", state.health_http_status)
                state.health.update(change)
            self._send(200, b"{}")
            return
        if url.path == "/_stats":
            with state.lock:
                stats = {"served": state.served, "health_checks": state.health_checks,
                         "health_auth": state.health_auth[-1:], "paths": state.paths[-100:],
                         "connections": len(state.peers)}
            self._send(200, json.dumps(stats).encode())
            return
        with state.lock:
            state.served += 1
            state.paths.append(url.path)
            state.peers.add(self.client_address[1])
        if url.path.startswith("/v1/runtimes/") and url.path.endswith("/logs"):
            n, delay = int(query.get("n", 5)), float(query.get("delay", 0.3))
            events = [f"data: {state.name} log line {i}\n\n".encode() for i in range(n)]
            self._chunked(events, delay, "text/event-stream", query.get("gated") == "1")
        elif url.path == "/stream":
            n, delay = int(query.get("n", 5)), float(query.get("delay", 0.3))
            self._chunked([f"piece {i}\n".encode() for i in range(n)], delay, "text/plain", query.get("gated") == "1")
        elif url.path == "/hangup":  # fail before answering: close the connection
            self.close_connection = True
        elif url.path == "/big":
            size = int(query.get("size", 1024))
            block = bytes(range(256)) * 4096  # 1 MiB pattern
            payload = (block * (size // len(block) + 1))[:size]
            self._send(200, payload, "application/octet-stream",
                       [("X-Sha256", hashlib.sha256(payload).hexdigest())])
        elif url.path == "/slow":
            time.sleep(float(query.get("delay", 1)))
            self._send(200, json.dumps({"executor": state.name, "slept": True}).encode())
        elif query.get("raw") == "1":
            self._send(200, body, self.headers.get("Content-Type", "application/octet-stream"),
                       [("X-Executor", state.name)])
        else:
            echo = {
                "executor": state.name,
                "method": self.command,
                "path": url.path,
                "query": url.query,
                "raw_path": self.path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body_length": len(body),
                "body_sha256": hashlib.sha256(body).hexdigest(),
            }
            status = int(query.get("status", 200))
            self._send(status, json.dumps(echo).encode(), extra=[("X-Executor", state.name),
                                                                 ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = handle_one


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--secret", default="")
    args = parser.parse_args()
    handler = type("BoundHandler", (Handler,), {"state": State(args.name, args.secret)})
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
