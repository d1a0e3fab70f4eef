"""Build output: captured with the 1,000,000-byte rule and streamed while it grows.

When the output exceeds :data:`LIMIT`, the first and last :data:`HALF` bytes are kept with
the line ``... output truncated: N bytes omitted ...`` between them. Readers of the live
stream (``/logs``) get the first :data:`HALF` bytes as they come, and the rest when the
build ends, so the stream and the create call's ``output`` are the same bytes.
"""
from __future__ import annotations

import threading

LIMIT = 1_000_000
HALF = LIMIT // 2


class BuildOutput:
    """Bytes written by a build, bounded in memory."""

    def __init__(self):
        self._head = bytearray()      # the first HALF bytes, streamed live
        self._rest = bytearray()      # a rolling window over the bytes after the head
        self._total = 0
        self._finished = False
        self._changed = threading.Condition()

    def write(self, data: bytes) -> None:
        if not data:
            return
        with self._changed:
            self._total += len(data)
            room = HALF - len(self._head)
            if room > 0:
                self._head += data[:room]
                data = data[room:]
            if data:
                self._rest += data
                if len(self._rest) > 2 * HALF:  # trim in bulk, not on every write
                    del self._rest[: len(self._rest) - HALF]
            self._changed.notify_all()

    def finish(self) -> None:
        with self._changed:
            self._finished = True
            self._changed.notify_all()

    @property
    def finished(self) -> bool:
        return self._finished

    def value(self) -> bytes:
        """The kept output: everything, or head + truncation line + tail."""
        with self._changed:
            if self._total <= LIMIT:
                return bytes(self._head + self._rest)
            omitted = self._total - 2 * HALF
            marker = f"\n... output truncated: {omitted} bytes omitted ...\n".encode()
            return bytes(self._head) + marker + bytes(self._rest[-HALF:])

    def read(self, position: int, timeout: float) -> tuple[bytes, bool]:
        """Bytes from ``position`` on, waiting up to ``timeout`` for some; and whether done."""
        with self._changed:
            if not self._finished and len(self._head) <= position:
                self._changed.wait(timeout)
            if self._finished:
                return self.value()[position:], True
            return bytes(self._head[position:]), False
