"""The gunicorn worker of the proxy and the executor: gevent's pywsgi with a leaner request path.

gevent.pywsgi parses request headers with ``http.client.parse_headers``, which goes through
the ``email`` package and was the largest single cost of a forwarded request. This worker
parses them with a small strict parser instead (same limits as ``http.client``; obsolete line
folding, malformed names and control characters are rejected with a 400), and skips building
access-log records when no access log is configured; it writes a response head together with
a small first body piece, and disables Nagle's algorithm on client connections.

    worker_class = "opr_http.worker.LeanWorker"
"""
from __future__ import annotations

import re
import socket

from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler

MAX_LINE = 65536      # as http.client._MAXLINE
MAX_HEADERS = 100     # as http.client._MAXHEADERS
SMALL_BODY = 64 * 1024  # a first body piece up to this size goes out with the response head
_FIELD = re.compile(r"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([\t\x20-\x7e\x80-\xff]*?)[ \t]*\r?\n?")
_NOT_FORWARDED = ("CONTENT_TYPE", "CONTENT_LENGTH")


class RequestHeaders:
    """Parsed request header fields with the interface pywsgi and gunicorn use."""

    __slots__ = ("fields", "status", "_index")

    def __init__(self, fields: list[tuple[str, str]], status: str = ""):
        self.fields = fields
        self.status = status  # non-empty: the request is rejected with 400
        self._index: dict[str, str] | None = None  # lower-case name -> first value, on demand

    @classmethod
    def parse(cls, stream, *_ignored) -> "RequestHeaders":
        fields: list[tuple[str, str]] = []
        while True:
            line = stream.readline(MAX_LINE + 1)
            if len(line) > MAX_LINE:
                return cls([], "Line too long")
            if line in (b"\r\n", b"\n", b""):
                return cls(fields)
            if len(fields) >= MAX_HEADERS:
                return cls([], "Too many headers")
            match = _FIELD.fullmatch(line.decode("latin-1"))
            if match is None:
                return cls([], "Invalid header line")
            fields.append((match.group(1), match.group(2)))

    def get(self, name: str, default=None):
        # pywsgi asks for about eight names per request: index the fields once.
        index = self._index
        if index is None:
            index = {}
            for field, value in self.fields:
                index.setdefault(field.lower(), value)
            self._index = index
        return index.get(name.lower(), default)

    getheader = get

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def __delitem__(self, name: str) -> None:
        name = name.lower()
        kept = [(field, value) for field, value in self.fields if field.lower() != name]
        if len(kept) == len(self.fields):
            raise KeyError(name)
        self.fields = kept
        self._index = None

    def items(self) -> list[tuple[str, str]]:
        return list(self.fields)

    @property
    def headers(self):
        return [f"{field}: {value}\r\n" for field, value in self.fields]

    @property
    def typeheader(self):
        return self.get("content-type")


class LeanHandler(PyWSGIHandler):
    """pywsgi's handler with :class:`RequestHeaders` and optional access records."""

    access_log = False

    def MessageClass(self, *args):
        return RequestHeaders.parse(*args)

    def _headers(self):
        # The same environ keys as pywsgi makes; fields with "_" are dropped as pywsgi does.
        for field, value in self.headers.fields:
            if "_" in field:
                continue
            key = field.replace("-", "_").upper()
            if key not in _NOT_FORWARDED:
                yield "HTTP_" + key, value

    def log_request(self):
        if self.access_log:
            super().log_request()

    def handle(self):
        # Stream pieces (build logs) must leave at once, not wait for the previous ACK (Nagle).
        try:
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass
        return super().handle()

    def _write_with_headers(self, data):
        # pywsgi sends the head and the first body piece in two writes; one write of both saves
        # a system call per response (the copy of a small piece costs less).
        if len(data) > SMALL_BODY:
            return super()._write_with_headers(data)
        self.headers_sent = True
        self.finalize_headers()
        towrite = bytearray(b"HTTP/1.1 ")
        towrite += self.status
        towrite += b"\r\n"
        for header, value in self.response_headers:
            towrite += header
            towrite += b": "
            towrite += value
            towrite += b"\r\n"
        towrite += b"\r\n"
        if data:
            if self.response_use_chunked:
                towrite += b"%x\r\n" % len(data)
                towrite += data
                towrite += b"\r\n"
            else:
                towrite += data
        self._sendall(towrite)


class LeanWorker(GeventPyWSGIWorker):
    """gunicorn's gevent (pywsgi) worker serving with :class:`LeanHandler`."""

    def init_process(self):
        self.wsgi_handler = type("LeanHandler", (LeanHandler,), {"access_log": bool(self.cfg.accesslog)})
        super().init_process()
