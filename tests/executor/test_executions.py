"""End-to-end: executions against real runtimes through a real executor (both adapters)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from email.parser import BytesParser
from email.policy import HTTP

import pytest

from tests.executor.support import NODE_IMAGE, ensure_image, new_id


def execute(executor, runtime_id, artifact=None, action="hello", **params):
    payload = {"headers": {"x-action": action, **params.pop("headers", {})}, **params}
    if artifact is not None:
        payload.update(image=NODE_IMAGE, source=artifact)
    return executor.post(f"/v1/runtimes/{runtime_id}/executions", json=payload)


def kill_runtime(executor, runtime_id):
    """Kill the runtime from outside, as a crash would."""
    name = f"{executor.hostname}-{runtime_id}"
    if executor.adapter == "process":
        meta = json.loads((executor.work_dir / name / "runtime.json").read_text())
        os.killpg(meta["pgids"][0], signal.SIGKILL)
    else:
        subprocess.run(["docker", "kill", name], check=True, capture_output=True, timeout=60)


def test_cold_then_warm_execution(executor, node_artifact):
    runtime_id = new_id()
    cold = execute(executor, runtime_id, node_artifact, timeout=60)
    assert cold.status_code == 200, cold.text
    result = cold.json()
    assert result["statusCode"] == 200
    assert result["body"] == "Hello from node"
    assert result["coldStart"] is True
    assert set(result["timings"]) >= {"wait", "create", "ready", "execution", "total"}
    assert result["duration"] * 1000 >= result["timings"]["execution"]
    warm = execute(executor, runtime_id).json()
    assert warm["coldStart"] is False
    assert warm["body"] == "Hello from node"
    assert executor.delete(f"/v1/runtimes/{runtime_id}").status_code == 200


def test_request_fields_reach_the_function(executor, node_artifact):
    runtime_id = new_id()
    response = execute(executor, runtime_id, node_artifact, action="echo", method="PUT",
                       path="a/b?c=d", body="payload 👋", headers={"X-Custom": "v"}, timeout=60)
    assert response.status_code == 200, response.text
    result = response.json()
    echoed = json.loads(result["body"])
    assert echoed["method"] == "PUT"
    assert echoed["path"] == "/a/b" and echoed["query"] == "c=d"
    assert echoed["body"] == "payload 👋"
    assert echoed["headers"]["x-custom"] == "v"
    assert not any(name.startswith("x-open-runtimes-") for name in echoed["headers"])
    assert result["logs"] == "echo PUT /a/b"
    assert result["headers"]["content-type"] == "application/json; charset=utf-8"
    assert not any(name.startswith("x-open-runtimes-") for name in result["headers"])
    head = execute(executor, runtime_id, action="hello", method="HEAD").json()
    assert head["statusCode"] == 200 and head["body"] == ""
    status = execute(executor, runtime_id, action="status").json()
    assert status["statusCode"] == 418 and status["body"] == "teapot"
    assert status["headers"]["x-custom"] == "yes"
    executor.delete(f"/v1/runtimes/{runtime_id}")


def test_runtime_environment_is_clean(executor, node_artifact):
    runtime_id = new_id()
    response = execute(executor, runtime_id, node_artifact, action="env", timeout=60,
                       variables={"CUSTOM_VAR": 2.5}, cpus=2, memory=256)
    env = json.loads(response.json()["body"])
    assert env == {"custom": "2.5", "secret": None, "executorSecret": None, "cpus": "2", "memory": "256"}
    executor.delete(f"/v1/runtimes/{runtime_id}")


def test_concurrent_cold_executions_create_one_runtime(executor, node_artifact):
    runtime_id = new_id()
    results = []

    def run():
        results.append(execute(executor, runtime_id, node_artifact, timeout=60))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [200] * 8, [r.text for r in results]
    bodies = [r.json() for r in results]
    assert all(b["body"] == "Hello from node" for b in bodies)
    creators = [b for b in bodies if b["timings"]["create"] > 0]
    assert len(creators) == 1
    listed = [row for row in executor.get("/v1/runtimes").json() if row["runtimeId"] == runtime_id]
    assert len(listed) == 1
    if executor.adapter == "process":
        dirs = [p for p in executor.work_dir.iterdir() if p.name.endswith(runtime_id)]
        assert len(dirs) == 1
    executor.delete(f"/v1/runtimes/{runtime_id}")


def test_function_timeout(executor, node_artifact):
    runtime_id = new_id()
    assert execute(executor, runtime_id, node_artifact, timeout=60).status_code == 200
    result = execute(executor, runtime_id, action="sleep", body="5000", timeout=1)
    assert result.status_code in (200, 400), result.text
    if result.status_code == 200:  # the runtime answered its own timeout in time
        assert result.json()["statusCode"] == 500
        assert "Execution timed out." in result.json()["errors"]
    else:
        assert result.json()["type"] == "execution_timeout"
    executor.delete(f"/v1/runtimes/{runtime_id}")


def test_cold_start_timeout(executor, node_artifact):
    runtime_id = new_id()
    response = executor.post(f"/v1/runtimes/{runtime_id}/executions", json={
        "image": NODE_IMAGE, "source": node_artifact, "runtimeEntrypoint": "sleep 30", "timeout": 1})
    assert response.status_code == 400
    assert response.json()["type"] == "runtime_timeout"
    assert response.json()["message"] == "Timed out waiting for runtime."
    executor.delete(f"/v1/runtimes/{runtime_id}")


def test_runtime_failing_to_start(executor, node_artifact):
    runtime_id = new_id()
    response = executor.post(f"/v1/runtimes/{runtime_id}/executions", json={
        "image": NODE_IMAGE, "source": node_artifact, "timeout": 30,
        "runtimeEntrypoint": "echo no server here; exit 7"})
    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "runtime_failed"
    assert "code 7" in error["message"] and "no server here" in error["message"]
    assert executor.get(f"/v1/runtimes/{runtime_id}").status_code == 404


def test_logs_and_errors(executor, node_artifact):
    runtime_id = new_id()
    result = execute(executor, runtime_id, node_artifact, action="logs", timeout=60).json()
    assert result["logs"] == "log line"
    assert result["errors"] == "error line"
    failed = execute(executor, runtime_id, action="nonexistent").json()
    assert failed["statusCode"] == 500
    assert "Unknown action" in failed["errors"]
    quiet = execute(executor, runtime_id, action="logs", logging=False).json()
    assert quiet["logs"] == "" and quiet["errors"] == ""
    executor.delete(f"/v1/runtimes/{runtime_id}")


def test_large_logs_come_whole_through_log_files(executor, node_artifact):
    runtime_id = new_id()
    size = 100_000  # far above the 16 KiB header cap: only log files carry it whole
    result = execute(executor, runtime_id, node_artifact, action="large-logs", body=str(size),
                     method="POST", timeout=60).json()
    assert result["logs"] == "x" * size
    assert result["errors"] == "y" * size
    name = f"{executor.hostname}-{runtime_id}"
    logs_dir = executor.work_dir / name / "logs"
    if logs_dir.exists():
        assert list(logs_dir.iterdir()) == []  # read, then deleted
    huge = execute(executor, runtime_id, action="large-logs", body=str(6 * 1024 * 1024),
                   method="POST", timeout=60).json()
    # The runtime caps its files at 5 MiB itself; the executor's own cap is the outer bound.
    assert "truncated" in huge["logs"][-100:]
    assert len(huge["logs"].encode()) <= 5 * 1024 * 1024 + len("\nLog file has been truncated to 5.00MB.")
    executor.delete(f"/v1/runtimes/{runtime_id}")


def multipart_fields(response) -> dict:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + response.headers["content-type"].encode() + b"\r\n\r\n" + response.content)
    return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
            for part in message.iter_parts()}


def test_binary_bodies_through_multipart(executor, node_artifact):
    runtime_id = new_id()
    assert execute(executor, runtime_id, node_artifact, timeout=60).status_code == 200
    url = f"/v1/runtimes/{runtime_id}/executions"
    payload = bytes(range(256)) * 4
    sent = executor.post(url, files={"body": ("body", payload, "application/octet-stream")},
                         data={"method": "POST", "headers": json.dumps({"x-action": "length"})})
    assert sent.status_code == 200, sent.text
    assert sent.json()["body"] == str(len(payload))
    as_json = executor.post(url, json={"headers": {"x-action": "binary"}})
    assert as_json.status_code == 400
    assert as_json.json()["type"] == "execution_bad_json"
    response = executor.post(url, data={"headers": json.dumps({"x-action": "binary"})},
                             headers={"accept": "multipart/form-data"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("multipart/form-data")
    fields = multipart_fields(response)
    assert fields["body"] == bytes([0xFF, 0x00, 0xFE, 0x80, 0x41])
    assert fields["statusCode"] == b"200"
    assert json.loads(fields["headers"])["content-type"].startswith("application/octet-stream")
    assert set(json.loads(fields["timings"])) >= {"wait", "create", "ready", "execution", "total"}
    executor.delete(f"/v1/runtimes/{runtime_id}")


def test_dying_runtime_is_reported_then_replaced(executor, node_artifact):
    runtime_id = new_id()
    assert execute(executor, runtime_id, node_artifact, timeout=60).status_code == 200
    died = execute(executor, runtime_id, node_artifact, action="exit", timeout=60)
    assert died.status_code == 400, died.text
    assert died.json()["type"] == "runtime_failed"
    assert "removed" in died.json()["message"]
    assert executor.get(f"/v1/runtimes/{runtime_id}").status_code == 404
    again = execute(executor, runtime_id, node_artifact, timeout=60).json()
    assert again["coldStart"] is True and again["body"] == "Hello from node"
    kill_runtime(executor, runtime_id)
    after_kill = execute(executor, runtime_id, node_artifact, timeout=60)
    assert after_kill.status_code == 400, after_kill.text
    assert after_kill.json()["type"] == "runtime_failed"
    fresh = execute(executor, runtime_id, node_artifact, timeout=60).json()
    assert fresh["coldStart"] is True and fresh["statusCode"] == 200
    executor.delete(f"/v1/runtimes/{runtime_id}")


def test_delete_fails_executions_in_flight(executor, node_artifact):
    runtime_id = new_id()
    assert execute(executor, runtime_id, node_artifact, timeout=60).status_code == 200
    results = []
    thread = threading.Thread(target=lambda: results.append(
        execute(executor, runtime_id, action="sleep", body="10000", timeout=30)))
    thread.start()
    for _ in range(200):  # until the execution is in flight
        row = executor.get(f"/v1/runtimes/{runtime_id}").json()
        if row["inflight"]:
            break
        threading.Event().wait(0.02)
    deleted = executor.delete(f"/v1/runtimes/{runtime_id}")
    assert deleted.status_code == 200 and deleted.content == b""
    thread.join(timeout=30)
    assert results and results[0].status_code >= 400
    assert "removed" in results[0].json()["message"]
    assert executor.delete(f"/v1/runtimes/{runtime_id}").status_code == 404


def test_missing_runtime_without_cold_start_params(executor):
    response = executor.post(f"/v1/runtimes/{new_id()}/executions", json={})
    assert response.status_code == 404
    assert response.json() == {
        "message": "Runtime not found. Please start it first or provide runtime-related parameters.",
        "code": 404, "type": "runtime_not_found", "version": response.json()["version"]}


def test_legacy_execution(executor, node_artifact):
    runtime_id = new_id()
    response = executor.post("/v1/execution", json={
        "runtimeId": runtime_id, "payload": "legacy body", "image": NODE_IMAGE,
        "source": node_artifact, "timeout": 60, "variables": {"A": "b"}})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["statusCode"] == 200 and result["coldStart"] is True
    assert result["body"] == "Hello from node"
    echoed = executor.post(f"/v1/runtimes/{runtime_id}/execution",
                           json={"headers": {"x-action": "echo"}, "method": "POST", "body": "x"})
    assert json.loads(echoed.json()["body"])["body"] == "x"
    executor.delete(f"/v1/runtimes/{runtime_id}")


LANGUAGES = {  # language -> (runtime, image, entrypoint, build command)
    "python": ("python-3.11", "openruntimes/python:v3-3.11", "main.py",
               "pip install --no-cache-dir -r requirements.txt"),
    "php": ("php-8.2", "openruntimes/php:v3-8.2", "index.php", "true"),
}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_cold_start_of_each_language(executor, language):
    runtime, image, entrypoint, build = LANGUAGES[language]
    if executor.adapter == "docker":
        ensure_image(runtime, image)
    artifact = executor.build(language, image=image, entrypoint=entrypoint, build_command=build)
    runtime_id = new_id(language)
    response = executor.post(f"/v1/runtimes/{runtime_id}/executions",
                             json={"image": image, "source": artifact, "timeout": 60})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["statusCode"] == 200 and result["body"] == f"Hello from {language}"
    assert result["coldStart"] is True
    executor.delete(f"/v1/runtimes/{runtime_id}")
