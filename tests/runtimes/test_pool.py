"""Pool mode and specialization (contract extension of issue 7, /work/notes/pool-contract.md).

A pool runtime starts with ``OPEN_RUNTIMES_POOL=1`` and no artifact. The test fills its function
dir with a build's unpacked artifact (what ``start.sh`` would have extracted), then sends the
specialization request; from then on the runtime must behave like a normally started one.
"""
from __future__ import annotations

import http.client
import json
import subprocess
import threading
from pathlib import Path

import pytest

from .client import call, request_headers
from .docker_mode import FUNCTION_DIR as CONTAINER_FUNCTION_DIR
from .instances import Build

SPECIALIZE = {"x-open-runtimes-specialize": "1", "content-type": "application/json"}
TEXT_PLAIN = "text/plain; charset=utf-8"
SECRET_MESSAGE = 'Unauthorized. Provide correct "x-open-runtimes-secret" header.'
TIMEOUT_MESSAGE = 'Header "x-open-runtimes-timeout" must be an integer greater than 0.'
NOT_SPECIALIZED = "Runtime is not specialized yet."
ALREADY_SPECIALIZED = "Runtime is already specialized."


# --- helpers -------------------------------------------------------------------------------------

def start_pool(harness, spawn, target, env: dict | None = None):
    """A pool runtime: ``OPEN_RUNTIMES_POOL=1``, no artifact, no function variables."""
    empty = harness.workspace.new_dir(f"pool-code-{target.id(False)}")
    no_artifact = Build(target, target.entrypoint, empty, 0, "", "")
    overrides = {"OPEN_RUNTIMES_POOL": "1", "OPEN_RUNTIMES_ENTRYPOINT": None, "CUSTOM_ENV_VAR": None}
    overrides.update(env or {})
    return spawn(target, no_artifact, env=overrides)


def good_build(harness, target, **kwargs) -> Build:
    build = harness.build(target, **kwargs)
    if build.returncode != 0:
        pytest.fail(f"the test function does not build: {build.describe()}")
    return build


def _run(argv: list[str], **kwargs) -> None:
    done = subprocess.run(argv, capture_output=True, timeout=120, **kwargs)
    assert done.returncode == 0, f"{argv[:4]} failed: {done.stderr.decode(errors='replace')}"


def fill(target, server, build: Build, *, keep_marker: bool = True) -> None:
    """Unpack ``build``'s artifact into the pool runtime's function dir, as start.sh would."""
    if target.mode == "docker":
        with open(build.artifact, "rb") as archive:
            _run(["docker", "exec", "-i", server.name, "tar", "-xzf", "-", "-C",
                  CONTAINER_FUNCTION_DIR], stdin=archive)
        if not keep_marker:
            _run(["docker", "exec", server.name, "rm", "-f", f"{CONTAINER_FUNCTION_DIR}/.open-runtimes"])
        return
    function_dir = server.function_dir  # a host path in process mode
    assert function_dir is not None and function_dir.is_dir(), function_dir
    _run(["tar", "-xzf", str(build.artifact), "-C", str(function_dir)])
    if not keep_marker:
        (function_dir / ".open-runtimes").unlink()


def specialize(server, body: dict | bytes | str | None = None, headers: dict | None = None):
    """Send the specialization request; a dict body is sent as JSON."""
    if isinstance(body, dict):
        body = json.dumps(body)
    return call(server.port, None, body=b"" if body is None else body,
                headers={**SPECIALIZE, **(headers or {})}, timeout=30)


def assert_plain(reply, status: int, text: str) -> None:
    assert reply.status == status, reply.describe()
    assert reply.text == text, reply.describe()
    assert reply.header("content-type") == TEXT_PLAIN, reply.describe()
    assert reply.header("x-open-runtimes-logs") is None, reply.describe()
    assert reply.header("x-open-runtimes-errors") is None, reply.describe()


def assert_specialized(reply) -> None:
    assert reply.status == 200, reply.describe()
    assert reply.header("content-type") == "application/json; charset=utf-8", reply.describe()
    assert reply.json() == {"specialized": True}, reply.describe()
    assert reply.header("x-open-runtimes-logs") is None, reply.describe()
    assert reply.header("x-open-runtimes-errors") is None, reply.describe()


# --- before specialization -----------------------------------------------------------------------

def test_pool_starts_without_an_artifact(harness, spawn, runtime_mode):
    server = start_pool(harness, spawn, runtime_mode)
    out = server.stdout()
    assert "Preparing for start ..." in out, server.describe()
    assert "Starting ..." in out, server.describe()
    assert "Start failed" not in server.stdout() + server.stderr(), server.describe()


def test_requests_before_specialization_are_unavailable(harness, spawn, runtime_mode):
    server = start_pool(harness, spawn, runtime_mode)
    assert_plain(call(server.port, "plaintextResponse"), 503, NOT_SPECIALIZED)
    assert_plain(call(server.port, "plaintextResponse", method="GET", path="/a?b=c", body=None),
                 503, NOT_SPECIALIZED)
    # Still unavailable: a rejected request does not change the pool runtime.
    assert_plain(call(server.port, "plaintextResponse"), 503, NOT_SPECIALIZED)


def test_secret_and_timeout_checks_come_first(harness, spawn, runtime_mode):
    server = start_pool(harness, spawn, runtime_mode)
    wrong = {"x-open-runtimes-secret": "wrong-secret"}
    assert_plain(specialize(server, {}, wrong), 500, SECRET_MESSAGE)
    assert_plain(specialize(server, {}, {"x-open-runtimes-secret": None}), 500, SECRET_MESSAGE)
    assert_plain(call(server.port, "plaintextResponse", headers=wrong), 500, SECRET_MESSAGE)
    assert_plain(specialize(server, {}, {"x-open-runtimes-timeout": "abc"}), 500, TIMEOUT_MESSAGE)
    assert_plain(call(server.port, "plaintextResponse", headers={"x-open-runtimes-timeout": "0"}),
                 500, TIMEOUT_MESSAGE)
    # None of these specialized it.
    assert_plain(call(server.port, "plaintextResponse"), 503, NOT_SPECIALIZED)


# --- specialization -------------------------------------------------------------------------------

def test_specialize_then_serve_like_a_normal_runtime(harness, spawn, target):
    build = good_build(harness, target)
    server = start_pool(harness, spawn, target)
    fill(target, server, build)
    assert_specialized(specialize(server, {"variables": {"CUSTOM_ENV_VAR": "pooledValue"},
                                           "entrypoint": target.entrypoint}))

    reply = call(server.port, "plaintextResponse")
    assert reply.status == 200, reply.describe()
    assert reply.text == "Hello World 👋"
    assert reply.logs == "" and reply.errors == "", reply.describe()

    reply = call(server.port, "envVars")
    assert reply.status == 200, reply.describe()
    assert reply.json() == {"var": "pooledValue", "emptyVar": None, "secret": None}, reply.describe()

    reply = call(server.port, "logs", body="1")
    assert reply.status == 200, reply.describe()
    assert "Debug log" in reply.logs, reply.describe()

    # A second specialization, whatever its body, is a conflict; the runtime keeps serving.
    assert_plain(specialize(server, {"variables": {"CUSTOM_ENV_VAR": "other"}}), 409,
                 ALREADY_SPECIALIZED)
    assert_plain(specialize(server, b"not json"), 409, ALREADY_SPECIALIZED)
    assert call(server.port, "envVars").json()["var"] == "pooledValue"


def test_specialize_and_call_on_one_kept_alive_connection(harness, spawn, runtime_mode):
    # An executor reuses its connections: the answers of the pool runtime keep them usable.
    server = start_pool(harness, spawn, runtime_mode)
    fill(runtime_mode, server, good_build(harness, runtime_mode))
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        exchanges = [
            (None, json.dumps({"variables": {"A": 1}}), SPECIALIZE, 400),
            (None, "{}", SPECIALIZE, 200),
            ("plaintextResponse", "", {}, 200),
            (None, "{}", SPECIALIZE, 409),
            ("plaintextResponse", "", {}, 200),
        ]
        for action, body, headers, status in exchanges:
            connection.request("POST", "/", body=body, headers=request_headers(action, headers))
            response = connection.getresponse()
            payload = response.read()
            assert response.status == status, (action, headers, response.status, payload)
            assert not response.will_close, (action, headers, response.getheaders())
    finally:
        connection.close()


def test_secret_variable_is_ignored(harness, spawn, runtime_mode):
    server = start_pool(harness, spawn, runtime_mode)
    fill(runtime_mode, server, good_build(harness, runtime_mode))
    assert_specialized(specialize(server, {"variables": {"OPEN_RUNTIMES_SECRET": "leaked",
                                                         "CUSTOM_ENV_VAR": "x"}}))
    reply = call(server.port, "envVars")
    assert reply.status == 200, reply.describe()
    assert reply.json()["secret"] is None, reply.describe()
    # The secret of the pool start still guards the runtime.
    assert_plain(call(server.port, "envVars", headers={"x-open-runtimes-secret": "leaked"}),
                 500, SECRET_MESSAGE)


def test_marker_entrypoint_wins_over_the_body(harness, spawn, runtime_mode):
    server = start_pool(harness, spawn, runtime_mode)
    fill(runtime_mode, server, good_build(harness, runtime_mode))
    assert_specialized(specialize(server, {"entrypoint": runtime_mode.missing_entrypoint}))
    reply = call(server.port, "plaintextResponse")
    assert reply.status == 200, reply.describe()
    assert reply.text == "Hello World 👋"


def test_body_entrypoint_without_marker(harness, spawn, runtime_mode):
    server = start_pool(harness, spawn, runtime_mode)
    fill(runtime_mode, server, good_build(harness, runtime_mode), keep_marker=False)
    assert_specialized(specialize(server, {"entrypoint": runtime_mode.entrypoint}))
    reply = call(server.port, "plaintextResponse")
    assert reply.status == 200, reply.describe()
    assert reply.text == "Hello World 👋"


def test_no_entrypoint_at_all(harness, spawn, runtime_mode):
    server = start_pool(harness, spawn, runtime_mode)
    fill(runtime_mode, server, good_build(harness, runtime_mode), keep_marker=False)
    assert_plain(specialize(server, {"variables": {"A": "b"}}), 400,
                 "Specialization failed: no entrypoint.")


def test_invalid_bodies(harness, spawn, runtime_mode):
    server = start_pool(harness, spawn, runtime_mode)
    fill(runtime_mode, server, good_build(harness, runtime_mode))
    for body in (b"{not json", b'"a string"', b"[]", b"[" * 100_000):
        assert_plain(specialize(server, body), 400, "Specialization failed: invalid JSON body.")
    for variables in ({"A": 1}, {"A": None}, {"A": ["b"]}, ["A"], "A=b"):
        assert_plain(specialize(server, {"variables": variables}), 400,
                     "Specialization failed: variables must map strings to strings.")
    # A failed specialization leaves the runtime in the pool: it can still be specialized.
    assert_plain(call(server.port, "plaintextResponse"), 503, NOT_SPECIALIZED)
    assert_specialized(specialize(server, {"variables": {"CUSTOM_ENV_VAR": "late"}}))
    assert call(server.port, "envVars").json()["var"] == "late"


def test_load_error_is_reported_by_the_calls(harness, spawn, runtime_mode):
    server = start_pool(harness, spawn, runtime_mode)
    fill(runtime_mode, server, good_build(harness, runtime_mode), keep_marker=False)
    assert_specialized(specialize(server, {"entrypoint": runtime_mode.missing_entrypoint}))
    reply = call(server.port, "plaintextResponse")
    assert reply.status == 500, reply.describe()
    assert reply.errors, reply.describe()


def test_racing_specializations(harness, spawn, runtime_mode):
    server = start_pool(harness, spawn, runtime_mode)
    fill(runtime_mode, server, good_build(harness, runtime_mode))
    replies = []
    barrier = threading.Barrier(2)

    def send(value: str) -> None:
        barrier.wait()
        replies.append(specialize(server, {"variables": {"CUSTOM_ENV_VAR": value}}))

    threads = [threading.Thread(target=send, args=(value,)) for value in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(reply.status for reply in replies) == [200, 409], [r.describe() for r in replies]
    winner = next(r for r in replies if r.status == 200)
    assert_specialized(winner)
    assert call(server.port, "envVars").json()["var"] in ("one", "two")


def test_two_pool_runtimes_keep_their_own_variables(harness, spawn, runtime_mode):
    build = good_build(harness, runtime_mode)
    first = start_pool(harness, spawn, runtime_mode)
    second = start_pool(harness, spawn, runtime_mode)
    for server, value in ((first, "first"), (second, "second")):
        fill(runtime_mode, server, build)
        assert_specialized(specialize(server, {"variables": {"CUSTOM_ENV_VAR": value}}))
    assert call(first.port, "envVars").json()["var"] == "first"
    assert call(second.port, "envVars").json()["var"] == "second"


# --- Python: the function's virtual environment ---------------------------------------------------

PROBE_MAIN = '''\
import os
import sys

import pool_dependency


def main(context):
    return context.res.json({
        "value": pool_dependency.VALUE,
        "file": pool_dependency.__file__,
        "virtualEnv": os.environ.get("VIRTUAL_ENV"),
        "path": os.environ.get("PATH", ""),
    })
'''
# The build puts the function's own module into the venv's site-packages: no network needed.
PROBE_BUILD = ("python3 -c \"import shutil, sysconfig; "
               "shutil.copy('vendor/pool_dependency.py', sysconfig.get_paths()['purelib'])\" "
               "&& rm -r vendor")


@pytest.mark.languages("python")  # runtime-env is the Python runtime's virtual environment
def test_python_runtime_env_is_activated(harness, spawn, runtime_mode):
    source = harness.workspace.new_dir(f"pool-probe-{runtime_mode.id(False)}")
    (source / "main.py").write_text(PROBE_MAIN)
    (source / "vendor").mkdir()
    (source / "vendor" / "pool_dependency.py").write_text('VALUE = "from runtime-env"\n')
    build = good_build(harness, runtime_mode, entrypoint="main.py", command=PROBE_BUILD,
                       source=Path(source))
    assert any("site-packages/pool_dependency.py" in name for name in build.members())

    server = start_pool(harness, spawn, runtime_mode)
    fill(runtime_mode, server, build)
    assert_specialized(specialize(server, {}))
    reply = call(server.port, "probe")
    assert reply.status == 200, reply.describe()
    payload = reply.json()
    assert payload["value"] == "from runtime-env", payload
    assert "/runtime-env/lib/" in payload["file"], payload
    assert payload["virtualEnv"].endswith("/runtime-env"), payload
    assert payload["path"].startswith(payload["virtualEnv"] + "/bin:"), payload
