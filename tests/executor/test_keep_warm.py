"""Keep-warm: ``keepWarm`` and ``idleTimeout`` on create and cold starts, honoured by maintenance."""
from __future__ import annotations

import time

import pytest

from executor.config import Config, ConfigError
from executor.maintenance import idle
from executor.runtimes import UP, Runtime
from tests.executor.support import NODE_IMAGE, new_id, start_for_adapter

GONE_SECONDS = 60


def runtime(**fields) -> Runtime:
    return Runtime(runtime_id=new_id(), name="n", hostname="h", image="i", version="v3", secret="s",
                   status=UP, **fields)


def test_idle_honours_keep_warm_and_own_timeouts():
    now = time.time()
    plain, warm, patient, eager = runtime(), runtime(keep_warm=True), runtime(idle_timeout=600), runtime(idle_timeout=0)
    for item in (plain, warm, patient, eager):
        item.updated = now - 120
    assert idle([plain, warm, patient, eager], now, threshold=60) == [plain, eager]
    fresh = runtime(idle_timeout=0)
    fresh.updated = now
    assert idle([fresh], now + 0.5, threshold=60) == [fresh]


@pytest.mark.parametrize("value", ["node=1", "openruntimes/node:v3-18.0", "openruntimes/node:v3-18.0=x",
                                   "openruntimes/node:v3-18.0=1,openruntimes/node:v3-18.0=2"])
def test_invalid_prewarm_is_a_startup_error(value):
    with pytest.raises(ConfigError, match="^OPR_EXECUTOR_PREWARM: "):
        Config.from_env({"OPR_EXECUTOR_PREWARM": value})


def test_prewarm_default_is_off():
    assert Config.from_env({}).prewarm == ()
    assert Config.from_env({"OPR_EXECUTOR_PREWARM": f"{NODE_IMAGE}=3"}).prewarm == ((NODE_IMAGE, 3),)


@pytest.fixture(scope="module", params=["process", pytest.param("docker", marks=pytest.mark.docker)])
def busy_executor(request, executors_root):
    """An executor whose maintenance runs every second with a 1 s inactive threshold."""
    server = start_for_adapter(request, executors_root, "keepwarm",
                               OPR_EXECUTOR_MAINTENANCE_INTERVAL="1", OPR_EXECUTOR_INACTIVE_THRESHOLD="1")
    server.artifact = server.build("node")
    yield server
    server.stop()


def test_maintenance_leaves_kept_warm_runtimes_alone(busy_executor):
    executor = busy_executor
    plain, warm, patient = new_id("plain"), new_id("warm"), new_id("patient")
    created = executor.post("/v1/runtimes", json={"runtimeId": warm, "image": NODE_IMAGE,
                                                  "source": executor.artifact, "keepWarm": True})
    assert created.status_code == 201, created.text
    for runtime_id, extra in ((patient, {"idleTimeout": 3600}), (plain, {"idleTimeout": 5})):
        response = executor.post(f"/v1/runtimes/{runtime_id}/executions", json={
            "image": NODE_IMAGE, "source": executor.artifact, "timeout": 60, **extra})
        assert response.status_code == 200, response.text
    rows = {row["runtimeId"]: row for row in executor.get("/v1/runtimes").json()}
    assert (rows[plain]["keepWarm"], rows[plain]["idleTimeout"]) == (False, 5)
    assert (rows[warm]["keepWarm"], rows[warm]["idleTimeout"]) == (True, 1)  # the threshold
    assert (rows[patient]["keepWarm"], rows[patient]["idleTimeout"]) == (False, 3600)
    deadline = time.monotonic() + GONE_SECONDS
    while executor.get(f"/v1/runtimes/{plain}").status_code != 404:
        assert time.monotonic() < deadline, "maintenance never removed the idle runtime"
        time.sleep(0.2)
    time.sleep(2.5)  # two more maintenance rounds
    for runtime_id in (warm, patient):
        assert executor.get(f"/v1/runtimes/{runtime_id}").status_code == 200
        response = executor.post(f"/v1/runtimes/{runtime_id}/executions", json={"timeout": 30})
        assert response.json()["timings"]["kind"] == "warm"
        assert executor.delete(f"/v1/runtimes/{runtime_id}").status_code == 200


def test_invalid_idle_timeout_is_refused(busy_executor):
    response = busy_executor.post("/v1/runtimes", json={"runtimeId": new_id(), "image": NODE_IMAGE,
                                                        "source": busy_executor.artifact, "idleTimeout": -1})
    assert response.status_code == 400
    assert "idleTimeout" in response.json()["message"]
