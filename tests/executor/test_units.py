"""Unit tests: configuration, validation, storage confinement, output capture, registry,
maintenance policy, auth and log capping. No server, no runtime."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from executor import maintenance
from executor.auth import bearer_matches
from executor.config import Config, ConfigError
from executor.errors import ExecutorError, body
from executor.executions import LOG_LIMIT, LOG_TRUNCATED, _cap, _read_log_file
from executor.output import HALF, LIMIT, BuildOutput
from executor.runtimes import Registry, Runtime
from executor.storage import Storage
from executor.validation import (Field, binary, boolean, integer, mapping, number, parse,
                                 runtime_id, string, string_map)


# -- configuration ---------------------------------------------------------------------------

def test_config_defaults():
    config = Config.from_env({})
    assert config.env == "production" and config.secret == "" and config.adapter == "process"
    assert config.networks == ("openruntimes-runtimes",)
    assert config.inactive_threshold == 60 and config.maintenance_interval == 3600
    assert config.retry_attempts == 5 and config.retry_delay_ms == 500
    assert config.runtime_versions == ("v3",) and config.images == ()
    assert config.storage_roots == (config.storage_root,)


def test_config_values():
    config = Config.from_env({
        "OPR_EXECUTOR_ENV": "development", "OPR_EXECUTOR_SECRET": "s",
        "OPR_EXECUTOR_ADAPTER": "docker", "OPR_EXECUTOR_NETWORK": "a, b",
        "OPR_EXECUTOR_INACTIVE_TRESHOLD": "7", "OPR_EXECUTOR_CONNECTION_STORAGE": "local:///srv/storage",
        "OPR_EXECUTOR_STORAGE_ROOTS": "/srv/storage:/srv/other", "OPR_EXECUTOR_IMAGES": "x,y",
        "OPR_EXECUTOR_PORT_RANGE": "30000-30010", "OPR_EXECUTOR_HOSTNAME": "exec-1"})
    assert config.development and config.networks == ("a", "b") and config.inactive_threshold == 7
    assert config.storage_root == Path("/srv/storage")
    assert config.storage_roots == (Path("/srv/storage"), Path("/srv/other"))
    assert config.images == ("x", "y") and config.port_range == (30000, 30010)
    assert config.hostname == "exec-1"
    assert Config.from_env({"OPR_EXECUTOR_NETWORK": "host"}).host_network


def test_correct_spelling_wins_over_the_misspelling():
    config = Config.from_env({"OPR_EXECUTOR_INACTIVE_THRESHOLD": "5", "OPR_EXECUTOR_INACTIVE_TRESHOLD": "9"})
    assert config.inactive_threshold == 5


@pytest.mark.parametrize("name, value", [
    ("OPR_EXECUTOR_ENV", "staging"),
    ("OPR_EXECUTOR_ADAPTER", "kubernetes"),
    ("OPR_EXECUTOR_INACTIVE_THRESHOLD", "soon"),
    ("OPR_EXECUTOR_MAINTENANCE_INTERVAL", "0"),
    ("OPR_EXECUTOR_RETRY_ATTEMPTS", "-1"),
    ("OPR_EXECUTOR_CONNECTION_STORAGE", "s3://bucket"),
    ("OPR_EXECUTOR_CONNECTION_STORAGE", "local://relative/path"),
    ("OPR_EXECUTOR_LOGGING_PROVIDER", "datadog"),
    ("OPR_EXECUTOR_HOSTNAME", "bad host/name"),
    ("OPR_EXECUTOR_PORT_RANGE", "10-5"),
    ("OPR_EXECUTOR_USAGE_INTERVAL", "nan"),
])
def test_config_errors_name_the_variable(name, value):
    with pytest.raises(ConfigError) as error:
        Config.from_env({name: value})
    message = str(error.value)
    assert message.startswith(name + ":") and "\n" not in message


# -- validation ------------------------------------------------------------------------------

def test_parse_coercions():
    fields = [Field("n", integer, default=3, minimum=1), Field("f", number, default=1.0),
              Field("b", boolean, default=False), Field("m", mapping, default=dict),
              Field("v", string_map, default=dict), Field("s", string, default="", max_len=3),
              Field("body", binary, default=b"")]
    assert parse({}, fields) == {"n": 3, "f": 1.0, "b": False, "m": {}, "v": {}, "s": "", "body": b""}
    values = parse({"n": "42", "f": "2.5", "b": "1", "m": '{"a": 1}', "v": {"x": 2.5, "y": True, "z": None},
                    "s": "abc", "body": "é", "unknown": object()}, fields)
    assert values == {"n": 42, "f": 2.5, "b": True, "m": {"a": 1}, "v": {"x": "2.5", "y": "true", "z": ""},
                      "s": "abc", "body": "é".encode()}
    for word, expected in (("", False), ("true", True), ("false", False), ("0", False), (True, True)):
        assert parse({"b": word}, fields)["b"] is expected
    assert parse({"m": "", "n": 7.0}, fields)["m"] == {}
    assert parse({"n": None}, fields)["n"] == 3  # null counts as absent


@pytest.mark.parametrize("raw, message", [
    ({"n": "1.5"}, "Invalid n: must be an integer"),
    ({"n": True}, "Invalid n: must be an integer"),
    ({"n": 0}, "Invalid n: must be at least 1"),
    ({"f": "x"}, "Invalid f: must be a number"),
    ({"f": "inf"}, "Invalid f: must be a number"),
    ({"b": "yes"}, "Invalid b: must be a boolean"),
    ({"m": "[1"}, "Invalid m: must be an object or a JSON-encoded object"),
    ({"m": [1]}, "Invalid m: must be an object"),
    ({"s": "abcd"}, "Invalid s: must be 0-3 characters long"),
    ({"s": 5}, "Invalid s: must be a string"),
])
def test_parse_errors(raw, message):
    fields = [Field("n", integer, minimum=1), Field("f", number), Field("b", boolean),
              Field("m", mapping), Field("s", string, max_len=3)]
    with pytest.raises(ExecutorError) as error:
        parse(raw, fields)
    assert error.value.status == 400 and error.value.type == "general_argument_invalid"
    assert error.value.message == message


@pytest.mark.parametrize("value, ok", [
    ("a", True), ("A-b_c.9", True), ("x" * 64, True), ("-dash", True),
    ("", False), (".dot", False), ("x" * 65, False), ("a/b", False), ("..", False), ("a b", False),
    ("é", False), (5, False),
])
def test_runtime_id_rule(value, ok):
    fields = [Field("runtimeId", runtime_id, required=True)]
    if ok:
        assert parse({"runtimeId": value}, fields)["runtimeId"] == value
    else:
        with pytest.raises(ExecutorError, match="Invalid runtimeId: must be 1-64 characters"):
            parse({"runtimeId": value}, fields)


def test_required_parameter():
    with pytest.raises(ExecutorError) as error:
        parse({}, [Field("runtimeId", runtime_id, required=True)])
    assert error.value.message == 'Param "runtimeId" is not optional.'


# -- storage ---------------------------------------------------------------------------------

def test_storage_confinement(tmp_path):
    root, other, outside = tmp_path / "root", tmp_path / "other", tmp_path / "outside"
    for directory in (root, other, outside):
        directory.mkdir()
    (root / "code.tar.gz").write_bytes(b"x")
    (outside / "secret.tar.gz").write_bytes(b"s")
    os.symlink(outside / "secret.tar.gz", root / "link.tar.gz")
    os.symlink(outside, root / "dirlink")
    storage = Storage(root, (root, other))
    assert storage.source(str(root / "code.tar.gz")) == root / "code.tar.gz"
    assert storage.source("code.tar.gz") == root / "code.tar.gz"  # relative to the root
    for path in (str(outside / "secret.tar.gz"), "../outside/secret.tar.gz", str(root / "link.tar.gz"),
                 str(root / "dirlink" / "secret.tar.gz"), "/", "bad\x00name"):
        with pytest.raises(ExecutorError, match="Invalid source"):
            storage.source(path)
    with pytest.raises(ExecutorError) as missing:
        storage.source(str(root / "missing.tar.gz"))
    assert missing.value.status == 500 and "missing.tar.gz" in missing.value.message
    path, size = storage.store(root / "code.tar.gz", str(other / "builds"))
    assert Path(path).parent == other / "builds" and size == 1 and path.endswith(".tar.gz")
    with pytest.raises(ExecutorError, match="Invalid destination"):
        storage.store(root / "code.tar.gz", str(root / "dirlink"))


# -- build output ----------------------------------------------------------------------------

def test_output_under_the_limit_is_kept_whole():
    output = BuildOutput()
    for _ in range(10):
        output.write(b"y" * (LIMIT // 10))
    output.finish()
    assert output.value() == b"y" * LIMIT


def test_output_over_the_limit_keeps_head_and_tail():
    output = BuildOutput()
    output.write(b"h" * HALF)
    for index in range(30):
        output.write(bytes([97 + index % 26]) * 100_000)
    output.write(b"END")
    output.finish()
    total = HALF + 3_000_000 + 3
    value = output.value()
    marker = f"\n... output truncated: {total - LIMIT} bytes omitted ...\n".encode()
    assert value.startswith(b"h" * HALF + marker)
    assert value.endswith(b"END") and len(value) == LIMIT + len(marker)


def test_output_stream_matches_the_value():
    output = BuildOutput()
    streamed = bytearray()

    def reader():
        position, done = 0, False
        while not done:
            data, done = output.read(position, 1.0)
            position += len(data)
            streamed.extend(data)

    thread = threading.Thread(target=reader)
    thread.start()
    for index in range(120):
        output.write(str(index).encode() * 5000)
    output.finish()
    thread.join(5)
    assert bytes(streamed) == output.value()


# -- registry and maintenance ----------------------------------------------------------------

def runtime(runtime_id="r", **fields):
    return Runtime(runtime_id=runtime_id, name=f"h-{runtime_id}", hostname="h", image="i",
                   version="v3", secret="s", **fields)


def test_registry_claim_is_exclusive():
    registry = Registry()
    first, second = runtime(), runtime()
    assert registry.claim(first) is None
    assert registry.claim(second) is first
    assert not registry.discard(second) and registry.get("r") is first
    assert registry.discard(first) and registry.get("r") is None
    assert "secret" not in runtime().row()


def test_idle_policy():
    now = time.time()
    stale = now - 100
    candidates = [
        runtime("idle", status="Up", updated=stale),
        runtime("busy", status="Up", updated=stale, inflight=1),
        runtime("building", status="Up", updated=stale, building=True),
        runtime("pending", updated=stale),
        runtime("fresh", status="Up", updated=now - 10),
    ]
    assert [r.runtime_id for r in maintenance.idle(candidates, now, 60)] == ["idle"]


# -- auth, errors, logs ----------------------------------------------------------------------

def test_bearer():
    assert bearer_matches("Bearer s3cret", "s3cret")
    assert bearer_matches("bearer s3cret", "s3cret")
    for header in (None, "", "Bearer", "Bearer wrong", "s3cret", "Basic s3cret"):
        assert not bearer_matches(header, "s3cret")
    assert not bearer_matches("Bearer ", "")


def test_error_bodies():
    payload, status = body(ExecutorError("runtime_timeout"), "1.2.3", development=False)
    assert (payload, status) == ({"message": "Timed out waiting for runtime.", "code": 400,
                                  "type": "runtime_timeout", "version": "1.2.3"}, 400)
    try:
        raise KeyError("internal detail")
    except KeyError as error:
        production, status = body(error, "1", development=False)
        development, _ = body(error, "1", development=True)
    assert status == 500 and production["message"] == "Internal server error." and "trace" not in production
    assert "internal detail" not in str(production)
    assert {"file", "line", "trace"} <= set(development)


def test_log_caps(tmp_path):
    assert _cap("small") == "small"
    capped = _cap("é" * LOG_LIMIT)
    assert capped.endswith(LOG_TRUNCATED) and len(capped[: -len(LOG_TRUNCATED)].encode()) <= LOG_LIMIT
    path = tmp_path / "id_logs.log"
    path.write_bytes(b"z" * (LOG_LIMIT + 10))
    assert _read_log_file(path) == "z" * LOG_LIMIT + LOG_TRUNCATED
    assert not path.exists()
    assert _read_log_file(tmp_path / "missing.log") is None
