"""Checklist 9.3, Security and order of checks."""
import pytest

from .client import call

UNAUTHORIZED = 'Unauthorized. Provide correct "x-open-runtimes-secret" header.'
BAD_TIMEOUT = 'Header "x-open-runtimes-timeout" must be an integer greater than 0.'


def test_wrong_secret(server):
    reply = call(server.port, headers={"x-open-runtimes-secret": "wrongSecret"})
    assert reply.status == 500, reply.describe()
    assert reply.text == UNAUTHORIZED
    # An early rejection (spec 1.2): no log headers, plain-text content-type.
    assert reply.header("x-open-runtimes-logs") is None
    assert reply.header("x-open-runtimes-errors") is None
    assert reply.header("content-type") == "text/plain; charset=utf-8"


@pytest.mark.parametrize("secret", [None, ""], ids=["absent", "empty"])
def test_missing_secret(server, secret):
    reply = call(server.port, "plaintextResponse", headers={"x-open-runtimes-secret": secret})
    assert reply.status == 500, reply.describe()
    assert reply.text == UNAUTHORIZED


def test_empty_secret_disables_the_check(target, spawn):
    runtime = spawn(target, env={"OPEN_RUNTIMES_SECRET": ""})
    reply = call(runtime.port, "plaintextResponse", headers={"x-open-runtimes-secret": None})
    assert reply.status == 200, reply.describe()
    assert reply.text == "Hello World 👋"
    reply = call(runtime.port, "plaintextResponse", headers={"x-open-runtimes-secret": "anything"})
    assert reply.status == 200, reply.describe()
    assert reply.text == "Hello World 👋"


def test_timeout_header_is_checked_before_the_secret(server):
    reply = call(server.port, headers={"x-open-runtimes-timeout": "abcd",
                                       "x-open-runtimes-secret": "wrongSecret"})
    assert reply.status == 500, reply.describe()
    assert reply.text == BAD_TIMEOUT


def test_secret_is_hidden_from_the_function(server):
    reply = call(server.port, "envVars")
    assert reply.status == 200, reply.describe()
    assert reply.json()["secret"] is None
