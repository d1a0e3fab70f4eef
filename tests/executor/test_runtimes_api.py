"""End-to-end: builds, listings, deletion, commands and the build-log stream (both adapters)."""
from __future__ import annotations

import os
import tarfile
import threading
import time


from tests.executor.support import BUILD_COMMAND, NODE_IMAGE, new_id


def create(executor, runtime_id, **params):
    payload = {"runtimeId": runtime_id, "image": NODE_IMAGE, **params}
    return executor.post("/v1/runtimes", json=payload)


def test_build_with_destination_and_remove(executor):
    runtime_id = new_id("build")
    response = create(executor, runtime_id, source=executor.source("node"), entrypoint="index.js",
                      destination=str(executor.storage / "artifacts"), remove=True,
                      command=BUILD_COMMAND.format("npm install"))
    assert response.status_code == 201, response.text
    body = response.json()
    for line in ("Preparing for build ...", "Building ...", "Packing build ...", "Build finished."):
        assert line in body["output"]
    assert os.path.isfile(body["path"]) and body["path"].startswith(str(executor.storage / "artifacts"))
    assert body["size"] == os.path.getsize(body["path"])
    assert body["duration"] > 0 and body["startTime"] > 0
    with tarfile.open(body["path"]) as archive:
        assert "./.open-runtimes" in archive.getnames()
    assert executor.get(f"/v1/runtimes/{runtime_id}").status_code == 404
    if executor.adapter == "process":
        assert not (executor.work_dir / f"{executor.hostname}-{runtime_id}").exists()


def test_build_without_remove_keeps_the_runtime(executor):
    runtime_id = new_id("build")
    response = create(executor, runtime_id, source=executor.source("node"),
                      command="echo built > /mnt/code/marker && cat /mnt/code/marker")
    assert response.status_code == 201, response.text
    assert response.json()["output"] == "built\n"
    assert "path" not in response.json()
    row = executor.get(f"/v1/runtimes/{runtime_id}").json()
    assert row["status"] == "Up" and row["initialised"] is True
    assert row["name"] == f"{executor.hostname}-{runtime_id}" and row["hostname"] == executor.hostname
    assert set(row) == {"name", "runtimeId", "hostname", "image", "status", "listening",
                        "initialised", "created", "updated", "version", "inflight",
                        "keepWarm", "idleTimeout"}
    conflict = create(executor, runtime_id)
    assert conflict.status_code == 409 and conflict.json()["type"] == "runtime_conflict"
    listed = executor.get("/v1/runtimes").json()
    assert runtime_id in [entry["runtimeId"] for entry in listed]
    assert all("secret" not in str(entry).lower() for entry in listed)
    deleted = executor.delete(f"/v1/runtimes/{runtime_id}")
    assert deleted.status_code == 200 and deleted.content == b""
    assert executor.get(f"/v1/runtimes/{runtime_id}").status_code == 404
    assert executor.delete(f"/v1/runtimes/{runtime_id}").status_code == 404


def test_failing_build_leaves_nothing(executor):
    runtime_id = new_id("build")
    response = create(executor, runtime_id, command="echo about to fail; exit 3")
    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "build_failed"
    assert error["message"] == "about to fail\nBuild command exited with code 3."
    assert executor.get(f"/v1/runtimes/{runtime_id}").status_code == 404
    silent = create(executor, new_id("build"), command="exit 1").json()
    assert silent["message"] == "Build command failed.\nBuild command exited with code 1."


def test_build_timeout(executor):
    response = create(executor, new_id("build"), command="echo start; sleep 30", timeout=1)
    assert response.status_code == 400
    assert response.json()["type"] == "build_failed"
    assert response.json()["message"] == "start\nBuild timed out after 1 seconds."


def test_build_missing_artifact_for_destination(executor):
    runtime_id = new_id("build")
    response = create(executor, runtime_id, command="true", destination=str(executor.storage / "out"))
    assert response.status_code == 500
    assert response.json()["message"] == "Something went wrong when starting runtime."
    assert executor.get(f"/v1/runtimes/{runtime_id}").status_code == 404


def test_missing_source_is_a_500_naming_it(executor):
    missing = str(executor.storage / "nope.tar.gz")
    response = create(executor, new_id("build"), source=missing, command="true")
    assert response.status_code == 500
    assert missing in response.json()["message"]


def test_large_build_output_is_truncated_and_streamed_identically(executor):
    runtime_id = new_id("build")
    streamed = []

    def follow():
        response = executor.get(f"/v1/runtimes/{runtime_id}/logs", stream=True, timeout=120)
        streamed.append((response.status_code, response.headers.get("content-type"),
                         b"".join(response.iter_content(65536))))

    reader = threading.Thread(target=follow)
    reader.start()  # opened before the create call: it waits for the runtime to appear
    command = "sleep 1; head -c 1200000 /dev/zero | tr '\\0' a; echo; echo the end"
    response = create(executor, runtime_id, command=command, remove=True)
    reader.join(timeout=60)
    assert response.status_code == 201, response.text[:500]
    output = response.json()["output"]
    assert "\n... output truncated: 200009 bytes omitted ...\n" in output
    assert output.startswith("a" * 500_000) and output.endswith("the end\n")
    assert len(output.encode()) == 1_000_000 + len("\n... output truncated: 200009 bytes omitted ...\n")
    status, content_type, data = streamed[0]
    assert status == 200 and content_type.startswith("text/event-stream")
    assert data == output.encode()


def test_log_stream_of_an_unknown_runtime(executor):
    response = executor.get(f"/v1/runtimes/{new_id()}/logs", timeout=30)
    assert response.status_code == 404
    assert response.json()["type"] == "runtime_not_found"


def test_commands(executor):
    runtime_id = new_id("cmd")
    assert create(executor, runtime_id, command="true").status_code == 201
    url = f"/v1/runtimes/{runtime_id}/commands"
    ok = executor.post(url, json={"command": "echo hello; echo oops >&2; pwd"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["output"] == "hello\noops\n/usr/local/server\n"
    failed = executor.post(url, json={"command": "exit 4"})
    assert failed.status_code == 500 and failed.json()["type"] == "command_failed"
    slow = executor.post(url, json={"command": "sleep 30", "timeout": 1})
    assert slow.status_code == 500 and slow.json()["type"] == "command_timeout"
    missing = executor.post(f"/v1/runtimes/{new_id()}/commands", json={"command": "true"})
    assert missing.status_code == 404
    executor.delete(f"/v1/runtimes/{runtime_id}")


def test_health(executor, node_artifact):
    runtime_id = new_id("health")
    executor.post(f"/v1/runtimes/{runtime_id}/executions",
                  json={"image": NODE_IMAGE, "source": node_artifact, "timeout": 60})
    assert executor.get("/v1/health", auth=False).json() == {"status": "pass"}
    details = executor.get("/v1/health").json()
    assert details["status"] == "pass" and details["adapter"] == executor.adapter
    assert details["runtimes"][runtime_id]["inflight"] == 0
    assert details["runtimes"][runtime_id]["status"] == "pass"
    assert details["version"]
    deadline = time.monotonic() + 10  # the sampler runs every 0.5 s in the tests
    while details["usage"] is None and time.monotonic() < deadline:
        time.sleep(0.2)
        details = executor.get("/v1/health").json()
    assert isinstance(details["usage"], float) and 0 <= details["usage"] <= 100
    if executor.adapter == "process":
        usage = details["runtimes"][runtime_id]["usage"]
        assert usage is None or usage >= 0
    wrong = executor.get("/v1/health", headers={"authorization": "Bearer wrong"})
    assert wrong.status_code == 401
    executor.delete(f"/v1/runtimes/{runtime_id}")
