"""The processing order of one request, from its parsed head to response bytes (spec 1.2)."""
import os
import threading
# hmac.compare_digest is this same constant-time function, but importing hmac loads OpenSSL.
from _operator import _compare_digest as compare_digest

from .calls import FAILED, RETURNED, TIMED_OUT, Call
from .context import Context
from .invoke import FunctionLoader, Invoker, describe
from .logs import header_value, native_block, valid_log_id, write_files
from .request import InternalError, build_request
from .respond import UserError, build_response
from .specialize import SpecializationError, apply, parse_body
from .wire import BodyTooLarge, response_bytes

TIMEOUT_MESSAGE = 'Header "x-open-runtimes-timeout" must be an integer greater than 0.'
SECRET_MESSAGE = 'Unauthorized. Provide correct "x-open-runtimes-secret" header.'
BODY_LIMIT = 20 * 1024 * 1024
SMALL_BODY = 64 * 1024  # a rejected request's body up to this size is read, not refused
BODY_MESSAGE = "Request body too large. The limit is 20971520 bytes (20 MiB)."
TIMED_OUT_MESSAGE = "Execution timed out."
TEXT_PLAIN = "text/plain; charset=utf-8"
SPECIALIZE_HEADER = "x-open-runtimes-specialize"
NOT_SPECIALIZED_MESSAGE = "Runtime is not specialized yet."
ALREADY_SPECIALIZED_MESSAGE = "Runtime is already specialized."
SPECIALIZED_BODY = b'{"specialized":true}'
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_INVALID = object()


class Reply:
    """Response bytes, and what the connection does afterwards."""

    __slots__ = ("data", "keep_alive", "body_unread")

    def __init__(self, data, keep_alive, body_unread=False):
        self.data = data
        self.keep_alive = keep_alive
        self.body_unread = body_unread  # close after draining what the client still sends


def parse_timeout(value):
    """Seconds from ``x-open-runtimes-timeout``: None when absent or empty, else _INVALID."""
    value = (value or "").strip()
    if not value:
        return None
    if value[0] in "123456789" and value.isascii() and value.isdigit():
        # Beyond any clock's reach: a very long timeout, which is no timeout (spec 1.4).
        return int(value) if len(value) <= 15 else None
    return _INVALID


class App:
    """Answers requests by calling the user function."""

    def __init__(self, config):
        self.config = config
        self.invoker = Invoker(None if config.pool else FunctionLoader(
            config.function_dir, config.entrypoint))
        # Pool mode: True once a specialization request has set the function (never reset).
        self.specialized = not config.pool
        self._specializing = threading.Lock()
        if config.pool:
            self.invoker.warm_up()

    def handle(self, head, reader, sock):
        """Run steps 2 to 7 for one parsed request; reads its body from ``reader``."""
        fields = head.fields
        timeout = parse_timeout(fields.get("x-open-runtimes-timeout"))
        if timeout is _INVALID:
            return self._reject(head, 500, TIMEOUT_MESSAGE, reader)
        secret = self.config.secret
        if secret and not compare_digest(
            fields.get("x-open-runtimes-secret", "").encode("latin-1"), secret
        ):
            return self._reject(head, 500, SECRET_MESSAGE, reader)
        specializing = False
        if self.config.pool:
            specializing = SPECIALIZE_HEADER in fields
            if specializing and self.specialized:
                return self._reject(head, 409, ALREADY_SPECIALIZED_MESSAGE, reader)
            if not specializing and not self.specialized:
                return self._reject(head, 503, NOT_SPECIALIZED_MESSAGE, reader)
        if head.content_length > BODY_LIMIT:
            return self._reject(head, 413, BODY_MESSAGE)
        if head.expect_continue and head.has_body:
            sock.sendall(CONTINUE)
        try:
            body = reader.read_body(head, BODY_LIMIT)
        except BodyTooLarge:
            return self._reject(head, 413, BODY_MESSAGE)
        if specializing:
            return self._specialize(head, body)
        return self._call(head, body, timeout)

    def _specialize(self, head, body):
        """Pool mode: set the function from the filled function dir and the request's JSON."""
        with self._specializing:
            if self.specialized:  # another request won the race
                return self._answer(head, 409, TEXT_PLAIN, ALREADY_SPECIALIZED_MESSAGE.encode())
            try:
                variables, entrypoint = parse_body(body)
                entrypoint = apply(self.config.function_dir, variables, entrypoint)
            except SpecializationError as error:
                return self._answer(head, 400, TEXT_PLAIN, str(error).encode())
            except Exception as error:  # the safety net: an answer, never a dead connection
                message = f"Specialization failed: {type(error).__name__}: {error}"
                return self._answer(head, 500, TEXT_PLAIN, message.encode("utf-8", "replace"))
            self.invoker.load(FunctionLoader(self.config.function_dir, entrypoint))
            self.specialized = True
        return self._answer(head, 200, "application/json; charset=utf-8", SPECIALIZED_BODY)

    def _answer(self, head, status, content_type, payload):
        """A response without log headers, once the request body has been read."""
        data = response_bytes(status, [("content-type", content_type)], payload,
                              head_only=head.method == "HEAD", keep_alive=head.keep_alive,
                              version=head.version)
        return Reply(data, head.keep_alive)

    def _reject(self, head, status, message, reader=None):
        """An early rejection: plain text, no log headers.

        A small body already on its way is read and dropped, which keeps the connection
        usable; any other body is left unread and the connection closes after the answer.
        """
        unread = head.has_body
        if (unread and reader is not None and not head.chunked and not head.expect_continue
                and head.content_length <= SMALL_BODY):
            reader.read_exact(head.content_length)
            unread = False
        keep_alive = head.keep_alive and not unread
        data = response_bytes(status, [("content-type", TEXT_PLAIN)], message.encode(),
                              head_only=head.method == "HEAD", keep_alive=keep_alive,
                              version=head.version)
        return Reply(data, keep_alive, unread)

    def _call(self, head, body, timeout):
        fields = head.fields
        call = Call(recording=fields.get("x-open-runtimes-logging", "").strip().lower()
                    != "disabled")
        status, headers, payload = 500, [("content-type", TEXT_PLAIN)], b""
        internal_error = None
        try:
            state = self.invoker.run(call, Context(build_request(head, body), call), timeout)
            if state is RETURNED:
                status, headers, payload = build_response(call.value)
            elif state is FAILED:
                call.errors.append(call.value)
            elif state is TIMED_OUT:
                call.errors.append(TIMED_OUT_MESSAGE)
        except UserError as exc:
            call.errors.append(str(exc))
        except InternalError as exc:
            internal_error = str(exc)
        except Exception as exc:  # the outer safety net (spec 5.4)
            internal_error = describe(exc)
        call.closed = True

        logs, errors = "", ""
        if call.recording and internal_error is not None:
            errors = internal_error
        elif call.recording:
            entries = list(call.logs)
            captured = "".join(call.native)
            if captured:
                entries += native_block(captured)
            logs, errors = "\n".join(entries), "\n".join(call.errors)
        headers.append(("x-open-runtimes-logs", header_value(logs)))
        headers.append(("x-open-runtimes-errors", header_value(errors)))

        log_id = fields.get("x-open-runtimes-log-id", "")
        logs_dir = self.config.logs_dir
        if (call.recording and valid_log_id(log_id) and os.path.isdir(logs_dir)
                and write_files(logs_dir, log_id, logs, errors)):
            headers.append(("x-open-runtimes-log-id", log_id))

        data = response_bytes(status, headers, payload, head_only=head.method == "HEAD",
                              keep_alive=head.keep_alive, version=head.version)
        return Reply(data, head.keep_alive)
