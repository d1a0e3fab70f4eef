"""Per-call capture of native output: print and any write to sys.stdout/sys.stderr (spec 4.2)."""
import sys
from contextvars import ContextVar

# The call whose code is running: set in the worker thread's context for a sync function and
# in the task's context for an async one, so concurrent calls never see each other's output.
current_call = ContextVar("openruntimes_v3_call", default=None)


class RoutingStream:
    """Stands in for sys.stdout / sys.stderr: text goes to the running call, else through."""

    def __init__(self, real):
        self._real = real
        self.buffer = _RoutingBuffer(self, getattr(real, "buffer", None))

    def write(self, text):
        call = current_call.get()
        if call is None:
            return self._real.write(text)
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        call.capture(text)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        if current_call.get() is None:
            self._real.flush()

    def __getattr__(self, name):
        return getattr(self._real, name)


class _RoutingBuffer:
    """The binary side of a RoutingStream (``sys.stdout.buffer.write(b"...")``)."""

    def __init__(self, stream, real):
        self._stream = stream
        self._real = real

    def write(self, data):
        if current_call.get() is None:
            return self._real.write(data)
        self._stream.write(bytes(data).decode("utf-8", "replace"))
        return len(data)

    def flush(self):
        if current_call.get() is None and self._real is not None:
            self._real.flush()

    def __getattr__(self, name):
        return getattr(self._real, name)


def install():
    """Route sys.stdout and sys.stderr through the current call (once, at start)."""
    sys.stdout = RoutingStream(sys.__stdout__)
    sys.stderr = RoutingStream(sys.__stderr__)
