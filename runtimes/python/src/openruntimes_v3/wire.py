"""HTTP/1.1 over a blocking socket: request heads and bodies in, responses out (spec 1.1.6)."""

# Request headers may total at least 16 KiB (spec 1.6); beyond this the answer is 431.
MAX_HEAD_BYTES = 64 * 1024
MAX_LINE_BYTES = 8 * 1024

_TOKEN_CHARS = (
    b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
_HEX_CHARS = b"0123456789abcdefABCDEF"

REASONS = {
    100: "Continue", 200: "OK", 201: "Created", 202: "Accepted",
    203: "Non-Authoritative Information", 204: "No Content", 205: "Reset Content",
    206: "Partial Content", 207: "Multi-Status", 208: "Already Reported", 226: "IM Used",
    300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other",
    304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect",
    308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized",
    402: "Payment Required", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout",
    409: "Conflict", 410: "Gone", 411: "Length Required", 412: "Precondition Failed",
    413: "Content Too Large", 414: "URI Too Long", 415: "Unsupported Media Type",
    416: "Range Not Satisfiable", 417: "Expectation Failed", 418: "I'm a teapot",
    421: "Misdirected Request", 422: "Unprocessable Content", 423: "Locked",
    424: "Failed Dependency", 425: "Too Early", 426: "Upgrade Required",
    428: "Precondition Required", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons",
    500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates", 507: "Insufficient Storage", 508: "Loop Detected",
    510: "Not Extended", 511: "Network Authentication Required",
}


class ConnectionClosed(Exception):
    """The peer closed the connection."""


class BadRequest(Exception):
    """The request cannot be parsed; answer ``status`` and close."""

    status = 400


class HeadTooLarge(BadRequest):
    status = 431


class BodyTooLarge(Exception):
    """A chunked body grew past the limit while being read."""


def is_token(data):
    """Whether ``data`` (bytes) is a non-empty HTTP token (a valid header name or method)."""
    return bool(data) and not data.translate(None, _TOKEN_CHARS)


class Head:
    """The parsed request line and headers of one request."""

    __slots__ = ("method", "target", "version", "fields", "content_length", "chunked",
                 "keep_alive", "expect_continue")

    def __init__(self, method, target, version, fields):
        self.method = method
        self.target = target
        self.version = version
        # Lower-cased name -> value (ISO-8859-1 text); repeated headers joined (spec 1.6).
        self.fields = fields
        self.content_length = 0
        self.chunked = False
        self.keep_alive = True
        self.expect_continue = False

    @property
    def has_body(self):
        return self.chunked or self.content_length > 0


def parse_head(raw):
    """Parse the bytes of a request head (without its final empty line) into a Head."""
    lines = raw.split(b"\n")
    request_line = lines[0][:-1] if lines[0].endswith(b"\r") else lines[0]
    parts = request_line.split(b" ")
    if len(parts) != 3:
        raise BadRequest("malformed request line")
    method, target, version = parts
    if not is_token(method) or version not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise BadRequest("malformed request line")
    if not target or any(byte < 0x21 or byte == 0x7F for byte in target):
        raise BadRequest("malformed request target")

    fields = {}
    lengths = set()
    for line in lines[1:]:
        if line.endswith(b"\r"):
            line = line[:-1]
        name, colon, value = line.partition(b":")
        if not colon or not is_token(name):
            raise BadRequest("malformed header line")
        value = value.strip(b" \t")
        if b"\r" in value or b"\0" in value:
            raise BadRequest("malformed header value")
        key = name.decode("ascii").lower()
        text = value.decode("latin-1")
        if key == "content-length":
            lengths.update(part.strip() for part in text.split(","))
        if key in fields:
            fields[key] += ("; " if key == "cookie" else ", ") + text
        else:
            fields[key] = text

    head = Head(method.decode("ascii"), target.decode("latin-1"), version.decode("ascii"), fields)
    transfer_encoding = fields.get("transfer-encoding")
    if transfer_encoding is not None:
        if transfer_encoding.strip().lower() != "chunked":
            raise BadRequest("unsupported transfer-encoding")
        head.chunked = True
    elif lengths:
        if len(lengths) != 1:
            raise BadRequest("conflicting content-length")
        length = lengths.pop()
        if not (length.isascii() and length.isdigit()) or len(length) > 18:
            raise BadRequest("malformed content-length")
        head.content_length = int(length)

    tokens = {token.strip().lower() for token in fields.get("connection", "").split(",")}
    if head.version == "HTTP/1.1":
        head.keep_alive = "close" not in tokens
        head.expect_continue = fields.get("expect", "").strip().lower() == "100-continue"
    else:
        head.keep_alive = "keep-alive" in tokens
    return head


class Reader:
    """Buffered reads of request heads and bodies from a blocking socket."""

    __slots__ = ("sock", "buf")

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionClosed()
        self.buf += data

    def read_head(self):
        """The next request head, without its terminating empty line."""
        while True:
            # Empty lines before a request line are ignored (RFC 9112, section 2.2).
            while self.buf.startswith(b"\n") or self.buf.startswith(b"\r\n"):
                del self.buf[: 1 if self.buf.startswith(b"\n") else 2]
            crlf = self.buf.find(b"\n\r\n")
            lf = self.buf.find(b"\n\n")
            if crlf >= 0 and (lf < 0 or crlf < lf):
                end, skip = crlf, 3
            else:
                end, skip = lf, 2
            if end >= 0:
                if end > MAX_HEAD_BYTES:
                    raise HeadTooLarge("request head too large")
                head = bytes(self.buf[:end])
                del self.buf[: end + skip]
                return head
            if len(self.buf) > MAX_HEAD_BYTES:
                raise HeadTooLarge("request head too large")
            self._fill()

    def read_exact(self, size):
        """Exactly ``size`` bytes of body."""
        if len(self.buf) >= size:
            data = bytes(self.buf[:size])
            del self.buf[:size]
            return data
        data = bytearray(size)
        view = memoryview(data)
        have = len(self.buf)
        view[:have] = self.buf
        self.buf.clear()
        while have < size:
            got = self.sock.recv_into(view[have:], min(size - have, 1 << 20))
            if not got:
                raise ConnectionClosed()
            have += got
        return data

    def read_line(self):
        """One line of a chunked body, without its line end."""
        while True:
            end = self.buf.find(b"\n")
            if end >= 0:
                line = bytes(self.buf[:end])
                del self.buf[: end + 1]
                return line[:-1] if line.endswith(b"\r") else line
            if len(self.buf) > MAX_LINE_BYTES:
                raise BadRequest("chunk line too long")
            self._fill()

    def read_body(self, head, limit):
        """The whole request body; raises BodyTooLarge once a chunked body passes ``limit``."""
        if not head.chunked:
            return self.read_exact(head.content_length) if head.content_length else b""
        body = bytearray()
        while True:
            size_text = self.read_line().split(b";", 1)[0].strip()
            if not size_text or len(size_text) > 16 or size_text.translate(None, _HEX_CHARS):
                raise BadRequest("malformed chunk size")
            size = int(size_text, 16)
            if size == 0:
                break
            if len(body) + size > limit:
                raise BodyTooLarge()
            body += self.read_exact(size)
            if self.read_line():
                raise BadRequest("malformed chunk end")
        trailers = 0
        while self.read_line():
            trailers += 1
            if trailers > 100:
                raise BadRequest("too many trailers")
        return bytes(body)


def response_bytes(status, headers, body, head_only=False, keep_alive=True, version="HTTP/1.1"):
    """The bytes of a whole response; ``headers`` is a list of (name, value) pairs."""
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    if status not in (204, 304):
        lines.append(f"content-length: {len(body)}")
    if not keep_alive:
        lines.append("connection: close")
    elif version == "HTTP/1.0":
        lines.append("connection: keep-alive")
    lines.append("\r\n")
    head = "\r\n".join(lines).encode("latin-1")
    if head_only or status in (204, 304) or not body:
        return head
    return head + body
