"""End-to-end: maintenance, start-up configuration errors, orphans and shutdown."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from tests.executor.support import NODE_IMAGE, REPO, new_id, start_executor, start_for_adapter


def wait_until(predicate, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(params=["process", pytest.param("docker", marks=pytest.mark.docker)])
def eager_executor(request, executors_root):
    """An executor whose maintenance runs every second with a 2-second idle threshold."""
    server = start_for_adapter(request, executors_root, f"eager-{new_id()}",
                               OPR_EXECUTOR_MAINTENANCE_INTERVAL=1, OPR_EXECUTOR_INACTIVE_TRESHOLD=2)
    yield server
    server.stop()


def test_maintenance_spares_busy_runtimes_and_removes_idle_ones(eager_executor):
    executor = eager_executor
    artifact = executor.build("node")
    idle_id, busy_id = new_id("idle"), new_id("busy")
    for runtime_id in (idle_id, busy_id):
        response = executor.post(f"/v1/runtimes/{runtime_id}/executions",
                                 json={"image": NODE_IMAGE, "source": artifact, "timeout": 60})
        assert response.status_code == 200, response.text
    results = []
    busy = threading.Thread(target=lambda: results.append(executor.post(
        f"/v1/runtimes/{busy_id}/executions",
        json={"headers": {"x-action": "sleep"}, "body": "6000", "method": "POST", "timeout": 30})))
    busy.start()
    assert wait_until(lambda: executor.get(f"/v1/runtimes/{idle_id}").status_code == 404)
    # The idle one is gone while the busy one, idle for longer than the threshold but with an
    # execution in flight, is still there.
    row = executor.get(f"/v1/runtimes/{busy_id}")
    assert row.status_code == 200 and row.json()["inflight"] == 1
    busy.join(timeout=60)
    assert results[0].json()["body"] == "slept"
    assert wait_until(lambda: executor.get(f"/v1/runtimes/{busy_id}").status_code == 404)
    if executor.adapter == "process":
        assert wait_until(lambda: list(executor.work_dir.iterdir()) == [])


def test_invalid_configuration_stops_the_start_with_one_line(executors_root):
    env = {"PATH": os.environ["PATH"], "OPR_EXECUTOR_ADAPTER": "kubernetes",
           "OPR_EXECUTOR_BIND": "127.0.0.1:0"}
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy/gunicorn/executor.conf.py"),
         "executor.app:create_app()"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if "OPR_EXECUTOR_ADAPTER" in line]
    assert lines == ["executor: invalid configuration: OPR_EXECUTOR_ADAPTER: 'kubernetes' is not one of 'process', 'docker'"]
    assert "Traceback" not in result.stderr


def test_empty_secret_refuses_everything(executors_root):
    server = start_executor(executors_root, f"nosecret-{new_id()}", OPR_EXECUTOR_SECRET="")
    try:
        server.secret = ""
        response = server.get("/v1/runtimes", headers={"authorization": "Bearer "})
        assert response.status_code == 401
        assert server.get("/v1/health", auth=False).json() == {"status": "pass"}
    finally:
        server.stop()


def test_development_mode_adds_the_trace(executors_root):
    server = start_executor(executors_root, f"dev-{new_id()}", OPR_EXECUTOR_ENV="development")
    try:
        body = server.get("/v1/runtimes/unknown-id").json()
        assert body["type"] == "runtime_not_found"
        assert {"file", "line", "trace"} <= set(body)
    finally:
        server.stop()


def test_orphans_of_an_earlier_run_are_removed_and_shutdown_leaves_nothing(executors_root):
    name = f"orphans-{new_id()}"
    first = start_executor(executors_root, name)
    artifact = first.build("node")
    runtime_id = new_id()
    response = first.post(f"/v1/runtimes/{runtime_id}/executions",
                          json={"image": NODE_IMAGE, "source": artifact, "timeout": 60})
    assert response.status_code == 200, response.text
    runtime_dir = first.work_dir / f"{first.hostname}-{runtime_id}"
    meta = json.loads((runtime_dir / "runtime.json").read_text())
    # A crash: the worker dies without its shutdown hook; its runtimes die with it (bwrap's
    # --die-with-parent) but their directories stay behind.
    os.killpg(first.process.pid, 9)
    first.process.wait()
    assert runtime_dir.exists()
    second = start_executor(executors_root, name)
    try:
        assert not runtime_dir.exists()
        for pgid in meta["pgids"]:
            assert not os.path.exists(f"/proc/{pgid}") or b"bwrap" not in open(f"/proc/{pgid}/cmdline", "rb").read()
        again = second.post(f"/v1/runtimes/{runtime_id}/executions",
                            json={"image": NODE_IMAGE, "source": artifact, "timeout": 60})
        assert again.json()["coldStart"] is True
    finally:
        second.stop()
    assert list(second.work_dir.iterdir()) == []
