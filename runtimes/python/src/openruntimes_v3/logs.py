"""Log entries: stringification, header encoding with its cap, log files (spec section 4)."""
import os
import sys

HEADER_CAP = 16384
HEADER_MARKER = "\n... Log truncated due to header size limit (16384 bytes)."
FILE_CAP = 5 * 1024 * 1024
FILE_MARKER = "\n... Log truncated due to file size limit (5242880 bytes)."
DIVIDER = "-" * 76
UNSUPPORTED_LOGS = "Unsupported logs detected. Use context.log() or context.error() for logging."

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = tuple(chr(byte) if byte in _UNRESERVED else "%%%02X" % byte for byte in range(256))
_LOG_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def to_json(value):
    """Compact JSON as res.json writes it: no spaces, non-ASCII and ``/`` unescaped."""
    import json

    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def stringify(value):
    """One log argument as text (spec 4.1)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list, tuple)):
        try:
            return to_json(value)
        except (TypeError, ValueError, RecursionError):
            pass
    return str(value)


def entry(values):
    """One log entry from the arguments of context.log / context.error."""
    return " ".join(map(stringify, values))


def native_block(captured):
    """The entries appended to the logs when a call wrote to stdout/stderr (spec 4.2)."""
    if captured.endswith("\n"):
        captured = captured[:-1]
    return ["", DIVIDER, UNSUPPORTED_LOGS, DIVIDER, captured, DIVIDER]


def url_encode(text):
    """Percent-encode the UTF-8 bytes of ``text``, keeping only unreserved characters."""
    return "".join(map(_PERCENT.__getitem__, text.encode("utf-8", "replace")))


def header_value(text):
    """The log header value of ``text``: encoded, and cut to HEADER_CAP bytes (spec 4.4)."""
    # Every character encodes to at least one byte, so a longer text cannot fit.
    if len(text) <= HEADER_CAP:
        encoded = url_encode(text)
        if len(encoded) <= HEADER_CAP:
            return encoded
    marker = url_encode(HEADER_MARKER)
    budget = HEADER_CAP - len(marker)
    pieces = []
    for char in text[:budget]:
        piece = url_encode(char)
        budget -= len(piece)
        if budget < 0:
            break
        pieces.append(piece)
    pieces.append(marker)
    return "".join(pieces)


def file_bytes(text):
    """The UTF-8 content of a log file, cut on a character boundary to FILE_CAP bytes."""
    data = text.encode("utf-8", "replace")
    if len(data) <= FILE_CAP:
        return data
    marker = FILE_MARKER.encode("utf-8")
    cut = FILE_CAP - len(marker)
    while cut > 0 and (data[cut] & 0xC0) == 0x80:  # inside a multi-byte character
        cut -= 1
    return data[:cut] + marker


def valid_log_id(log_id):
    """Whether a request's log id may name files (``^[A-Za-z0-9_-]{1,64}$``, spec 4.5)."""
    return 0 < len(log_id) <= 64 and not log_id.strip(_LOG_ID_CHARS)


def write_files(logs_dir, log_id, logs, errors):
    """Write ``<id>_logs.log`` and ``<id>_errors.log`` atomically; False (and a note) on failure."""
    try:
        _write_atomic(os.path.join(logs_dir, log_id + "_logs.log"), file_bytes(logs))
        _write_atomic(os.path.join(logs_dir, log_id + "_errors.log"), file_bytes(errors))
    except OSError as error:
        sys.__stderr__.write(f"Could not write log files of {log_id}: {error}\n")
        sys.__stderr__.flush()
        return False
    return True


def _write_atomic(path, data):
    directory, name = os.path.split(path)
    temporary = os.path.join(directory, f".{name}.{os.getpid()}.{id(data)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        with memoryview(data) as view:
            written = 0
            while written < len(view):
                written += os.write(fd, view[written:])
        os.close(fd)
        fd = -1
        os.replace(temporary, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
