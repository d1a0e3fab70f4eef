"""Checklist 9.3, Logs: entries, native output and the log headers."""
from .client import call
from .targets import UNSUPPORTED_LOGS

DASHES = "-" * 76


def test_logs(server):
    reply = call(server.port, "logs")
    assert reply.status == 200, reply.describe()
    assert reply.body == b""
    logs, errors = reply.logs, reply.errors
    for expected in ("Debug log", "42", "4.2", "Native log", "Unsupported logs detected.",
                     '{"objectKey":"objectValue"}', '["arrayValue"]', "Log+With+Plus+Symbol"):
        assert expected in logs, f"{expected!r} missing from logs {logs!r}"
    assert "true" in logs.lower()
    assert "Error log" in errors
    assert "Debug log" not in errors


def test_logs_header_is_url_encoded(server):
    raw = call(server.port, "logs").header("x-open-runtimes-logs")
    assert "Log%2BWith%2BPlus%2BSymbol" in raw
    assert "+" not in raw


def test_native_output_block(target, server):
    logs = call(server.port, "logs").logs
    block = f"\n\n{DASHES}\n{UNSUPPORTED_LOGS[target.language]}\n{DASHES}\n"
    assert block in logs, f"no native-output block in {logs!r}"
    assert logs.endswith("\n" + DASHES), logs
    captured = logs[logs.index(block) + len(block): -len(DASHES) - 1]
    assert "Native log" in captured


def test_log_headers_present_and_empty(server):
    reply = call(server.port, "plaintextResponse")
    assert reply.status == 200, reply.describe()
    assert reply.header("x-open-runtimes-logs") == ""
    assert reply.header("x-open-runtimes-errors") == ""
