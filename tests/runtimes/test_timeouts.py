"""Checklist 9.3, Timeouts: x-open-runtimes-timeout ends a call on time and closes it."""
import time

import pytest

from .client import call

BAD_TIMEOUT = 'Header "x-open-runtimes-timeout" must be an integer greater than 0.'


def test_timeout_expires(server):
    started = time.monotonic()
    reply = call(server.port, "timeout", headers={"x-open-runtimes-timeout": "1"})
    elapsed = time.monotonic() - started
    assert reply.status == 500, reply.describe()
    assert reply.body == b""
    assert "Execution timed out." in reply.errors
    assert "Timeout start." in reply.logs
    assert "Timeout end." not in reply.logs
    # Spec 9.3: the function needs 3 s; the answer must not wait for it.
    assert elapsed < 2.5, f"timed-out call answered after {elapsed:.2f} s"


def test_timeout_not_reached(server):
    reply = call(server.port, "timeout", headers={"x-open-runtimes-timeout": "5"})
    assert reply.status == 200, reply.describe()
    assert reply.text == "Successful response."
    assert "Timeout start." in reply.logs
    assert "Timeout end." in reply.logs


@pytest.mark.parametrize("value", ["abcd", "0", "-1", "1.5"])
def test_invalid_timeout_header(server, value):
    reply = call(server.port, "plaintextResponse", headers={"x-open-runtimes-timeout": value})
    assert reply.status == 500, reply.describe()
    assert reply.text == BAD_TIMEOUT


def test_timed_out_call_stays_closed(server):
    started = time.monotonic()
    reply = call(server.port, "timeout", headers={"x-open-runtimes-timeout": "1"})
    assert reply.status == 500, reply.describe()
    # Let the abandoned code finish (it logs `Timeout end.` at 3 s), then look at a new call.
    time.sleep(max(0.0, 3.3 - (time.monotonic() - started)))
    reply = call(server.port, "logs")
    assert reply.status == 200, reply.describe()
    assert "Timeout end." not in reply.logs
    assert "Timeout end." not in reply.errors
