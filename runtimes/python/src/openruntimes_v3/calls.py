"""One call of the function: what it records and how it ends (spec 4.7, 5.1, 5.2)."""
import threading

PENDING = "pending"
RETURNED = "returned"  # value: whatever main returned
FAILED = "failed"  # value: the text for the errors
TIMED_OUT = "timed out"


class Call:
    """The logs, errors and captured output of one call, and its outcome.

    Once closed (its response produced), whatever its code still logs or prints is dropped.
    """

    __slots__ = ("recording", "logs", "errors", "native", "closed", "state", "value", "task",
                 "_settled", "_lock")

    def __init__(self, recording=True):
        self.recording = recording  # False when the request disabled logging (spec 4.6)
        self.logs = []
        self.errors = []
        self.native = []
        self.closed = False
        self.state = PENDING
        self.value = None
        self.task = None  # the asyncio task of an async function
        self._settled = threading.Event()
        self._lock = threading.Lock()

    def log(self, text):
        if self.recording and not self.closed:
            self.logs.append(text)

    def error(self, text):
        if self.recording and not self.closed:
            self.errors.append(text)

    def capture(self, text):
        if self.recording and not self.closed:
            self.native.append(text)

    def settle(self, state, value=None):
        """Record the outcome, unless the call already has one; True if this one counts."""
        with self._lock:
            if self.state is not PENDING:
                return False
            self.state = state
            self.value = value
        self._settled.set()
        return True

    def wait(self, timeout):
        """Wait for the outcome for at most ``timeout`` seconds (None: forever), then close."""
        if not self._settled.wait(timeout):
            self.settle(TIMED_OUT)
        self.closed = True
        return self.state
