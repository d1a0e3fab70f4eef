"""Checklist 9.3, Large logs and log files: the 16 KiB header cap and the 5 MiB file cap."""
import os

from .client import call

UNIT = "a+👋"
HEADER_CAP = 16384
FILE_CAP = 5242880
HEADER_MARKER = "\n... Log truncated due to header size limit (16384 bytes)."
FILE_MARKER = "\n... Log truncated due to file size limit (5242880 bytes)."


def large_logs(port: int, count: int, timeout: float = 5.0, **headers):
    reply = call(port, "largeLogs", body=str(count), timeout=timeout,
                 headers={name.replace("_", "-"): value for name, value in headers.items()})
    assert reply.status == 200, reply.describe()
    assert reply.text == "OK"
    return reply


def take_files(logs_dir, log_id: str) -> tuple[bytes, bytes]:
    """Read and delete the two log files of ``log_id``, as a caller does."""
    contents = []
    for suffix in ("logs", "errors"):
        path = logs_dir / f"{log_id}_{suffix}.log"
        assert path.is_file(), f"{path.name} not written; logs dir holds {sorted(os.listdir(logs_dir))}"
        contents.append(path.read_bytes())
        path.unlink()
    return contents[0], contents[1]


def test_small_logs_are_exact(server):
    reply = large_logs(server.port, 10)
    assert reply.logs == UNIT * 10
    assert reply.errors == UNIT * 10


def test_log_headers_are_capped(server):
    reply = large_logs(server.port, 2000)
    full = UNIT * 2000
    for name in ("x-open-runtimes-logs", "x-open-runtimes-errors"):
        raw = reply.header(name)
        assert len(raw.encode("latin-1")) <= HEADER_CAP, f"{name} is {len(raw)} bytes"
    for decoded in (reply.logs, reply.errors):  # form_decode fails on a cut UTF-8 sequence
        assert decoded.endswith(HEADER_MARKER), decoded[-200:]
        prefix = decoded[: -len(HEADER_MARKER)]
        assert prefix and full.startswith(prefix)


def test_log_files_hold_everything(server):
    reply = large_logs(server.port, 2000, x_open_runtimes_log_id="run_1-A")
    assert reply.header("x-open-runtimes-log-id") == "run_1-A"
    logs, errors = take_files(server.logs_dir, "run_1-A")
    assert logs.decode("utf-8") == UNIT * 2000
    assert errors.decode("utf-8") == UNIT * 2000


def test_log_files_are_capped(server):
    # Six MB of logs per list to build, encode and write: more time than the 5 s default.
    reply = large_logs(server.port, 1000000, timeout=30.0, x_open_runtimes_log_id="run_2-B")
    assert reply.header("x-open-runtimes-log-id") == "run_2-B"
    full = UNIT * 1000000
    for content in take_files(server.logs_dir, "run_2-B"):
        assert len(content) <= FILE_CAP, f"log file of {len(content)} bytes"
        text = content.decode("utf-8")
        assert text.endswith(FILE_MARKER), text[-200:]
        assert full.startswith(text[: -len(FILE_MARKER)])


def test_invalid_log_id_writes_nothing(server):
    before = sorted(os.listdir(server.logs_dir.parent)), sorted(os.listdir(server.logs_dir))
    reply = large_logs(server.port, 10, x_open_runtimes_log_id="../evil")
    assert reply.header("x-open-runtimes-log-id") is None
    after = sorted(os.listdir(server.logs_dir.parent)), sorted(os.listdir(server.logs_dir))
    assert after == before
    assert not [name for name in after[0] + after[1] if "evil" in name]


def test_log_id_without_logs_dir(target, spawn):
    runtime = spawn(target, logs_dir=False)
    reply = large_logs(runtime.port, 10, x_open_runtimes_log_id="run_3-C")
    assert reply.header("x-open-runtimes-log-id") is None


def test_logging_disabled(server):
    reply = call(server.port, "logs", headers={"x-open-runtimes-logging": "disabled",
                                               "x-open-runtimes-log-id": "run_4-D"})
    assert reply.status == 200, reply.describe()
    assert reply.header("x-open-runtimes-logs") == ""
    assert reply.header("x-open-runtimes-errors") == ""
    assert reply.header("x-open-runtimes-log-id") is None
    assert [name for name in os.listdir(server.logs_dir) if name.startswith("run_4-D")] == []
