"""Prewarmed pools: pool hits and misses, refill, fallback, isolation, shrinking (both adapters).

Every executor here keeps ``POOL_TARGET`` node runtimes ready (``OPR_EXECUTOR_PREWARM``).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from executor.adapters.process import ProcessAdapter
from executor.config import Config
from executor.pools import Pools
from executor import runtime_http
from executor.runtime_http import client_for
from executor.specialize import SpecializationFailed, specialize
from tests.executor.support import NODE_IMAGE, leftovers, new_id, start_executor, start_for_adapter

POOL_TARGET = 2
READY_SECONDS = 90


@pytest.fixture(scope="module", params=["process", pytest.param("docker", marks=pytest.mark.docker)])
def pool_executor(request, executors_root):
    server = start_for_adapter(request, executors_root, "pool",
                               OPR_EXECUTOR_PREWARM=f"{NODE_IMAGE}={POOL_TARGET}")
    server.artifact = server.build("node")
    yield server
    server.stop()


def pools(executor) -> dict:
    return executor.get("/v1/health").json()["pools"]


def wait_full(executor) -> None:
    """Wait (bounded) until the pool holds its target again."""
    deadline = time.monotonic() + READY_SECONDS
    while pools(executor)[NODE_IMAGE]["ready"] < POOL_TARGET:
        assert time.monotonic() < deadline, f"pool not refilled: {pools(executor)}"
        time.sleep(0.1)


def cold(executor, runtime_id, action="hello", **params):
    payload = {"headers": {"x-action": action}, "image": NODE_IMAGE, "source": executor.artifact,
               "timeout": 60, **params}
    response = executor.post(f"/v1/runtimes/{runtime_id}/executions", json=payload)
    assert response.status_code == 200, response.text
    return response.json()


def pool_names(executor) -> list[str]:
    prefix = f"{executor.hostname}-pool-"
    if executor.adapter == "process":
        return sorted(p.name for p in executor.work_dir.iterdir() if p.name.startswith(prefix))
    listed = subprocess.run(["docker", "ps", "-a", "--filter", f"label=openruntimes-executor={executor.hostname}",
                             "--filter", "label=openruntimes-pool", "--format", "{{.Names}}"],
                            capture_output=True, text=True, timeout=60, check=True).stdout.split()
    return sorted(listed)


def test_health_reports_the_pool(pool_executor):
    wait_full(pool_executor)
    assert pools(pool_executor) == {NODE_IMAGE: {"ready": POOL_TARGET, "target": POOL_TARGET}}
    names = pool_names(pool_executor)
    assert len(names) == POOL_TARGET, names
    # Pool runtimes hold no function: they are not runtimes of the API.
    assert pool_executor.get("/v1/runtimes").json() == []


def test_pool_hit_specializes_then_refills(pool_executor):
    wait_full(pool_executor)
    before = set(pool_names(pool_executor))
    runtime_id = new_id("hit")
    first = cold(pool_executor, runtime_id)
    assert first["body"] == "Hello from node"
    assert first["coldStart"] is True and first["timings"]["kind"] == "pool"
    warm = cold(pool_executor, runtime_id)
    assert warm["coldStart"] is False and warm["timings"]["kind"] == "warm"
    row = pool_executor.get(f"/v1/runtimes/{runtime_id}").json()
    assert row["runtimeId"] == runtime_id and row["status"] == "Up"
    wait_full(pool_executor)
    assert pool_executor.delete(f"/v1/runtimes/{runtime_id}").status_code == 200
    after = set(pool_names(pool_executor))
    assert len(before - after) == 1, "exactly one pool runtime was taken (and is now deleted)"
    assert len(after - before) == 1, "and one new one replaced it"


def test_pool_miss_for_other_limits_or_an_empty_pool(pool_executor):
    wait_full(pool_executor)
    other = new_id("miss")
    result = cold(pool_executor, other, memory=256)
    assert result["body"] == "Hello from node" and result["timings"]["kind"] == "cold"
    custom = new_id("miss")
    result = cold(pool_executor, custom, runtimeEntrypoint='cp /tmp/code.tar.gz /mnt/code/code.tar.gz && '
                                                            'nohup helpers/start.sh "node src/server.js"')
    assert result["body"] == "Hello from node" and result["timings"]["kind"] == "cold"
    # More concurrent cold starts than ready runtimes: the surplus misses.
    ids = [new_id("burst") for _ in range(POOL_TARGET + 2)]
    with ThreadPoolExecutor(len(ids)) as workers:
        results = list(workers.map(lambda rid: cold(pool_executor, rid), ids))
    assert all(r["body"] == "Hello from node" for r in results)
    kinds = sorted(r["timings"]["kind"] for r in results)
    assert "cold" in kinds and "pool" in kinds, kinds
    for runtime_id in [other, custom, *ids]:
        pool_executor.delete(f"/v1/runtimes/{runtime_id}")


def test_variables_are_isolated_between_pooled_runtimes(pool_executor):
    wait_full(pool_executor)
    first, second = new_id("iso"), new_id("iso")
    one = cold(pool_executor, first, action="env", variables={"CUSTOM_VAR": "one"})
    two = cold(pool_executor, second, action="env", variables={"CUSTOM_VAR": "two"})
    assert one["timings"]["kind"] == two["timings"]["kind"] == "pool"
    assert json.loads(one["body"]) == {"custom": "one", "secret": None, "executorSecret": None,
                                       "cpus": "1", "memory": "512"}
    assert json.loads(two["body"])["custom"] == "two"
    assert json.loads(cold(pool_executor, first, action="env")["body"])["custom"] == "one"
    for runtime_id in (first, second):
        pool_executor.delete(f"/v1/runtimes/{runtime_id}")


def test_dead_pool_runtime_falls_back_to_a_cold_start(pool_executor):
    wait_full(pool_executor)
    for name in pool_names(pool_executor):
        kill(pool_executor, name)
    runtime_id = new_id("dead")
    result = cold(pool_executor, runtime_id)
    assert result["body"] == "Hello from node"
    assert result["timings"]["kind"] == "cold"
    pool_executor.delete(f"/v1/runtimes/{runtime_id}")
    # The dead ones are discarded as they are taken; the pool heals.
    deadline = time.monotonic() + READY_SECONDS
    while True:
        runtime_id = new_id("heal")
        kind = cold(pool_executor, runtime_id)["timings"]["kind"]
        pool_executor.delete(f"/v1/runtimes/{runtime_id}")
        if kind == "pool":
            break
        assert time.monotonic() < deadline, "the pool never served a live runtime again"


def kill(executor, name: str) -> None:
    if executor.adapter == "process":
        meta = json.loads((executor.work_dir / name / "runtime.json").read_text())
        for pgid in meta["pgids"]:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    else:
        subprocess.run(["docker", "kill", name], capture_output=True, timeout=60)


def test_shutdown_shrinks_the_pool(executors_root):
    server = start_executor(executors_root, "pool-shutdown", OPR_EXECUTOR_PREWARM=f"{NODE_IMAGE}=2")
    try:
        deadline = time.monotonic() + READY_SECONDS
        while pools(server)[NODE_IMAGE]["ready"] < 2:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        server.stop()
    assert list(server.work_dir.iterdir()) == []
    assert [item for item in leftovers(executors_root) if str(server.root) in item] == []


def test_a_runtime_refuses_a_second_specialization(tmp_path):
    """Straight against a real pool runtime (process adapter), without the HTTP API."""
    config = Config(hostname=f"opr-test-spec-{os.getpid()}", work_dir=tmp_path / "work",
                    prewarm=((NODE_IMAGE, 1),))
    adapter = ProcessAdapter(hostname=config.hostname, work_dir=config.work_dir)
    pool = Pools(adapter, config)
    pool.start()
    pooled = None
    try:
        deadline = time.monotonic() + READY_SECONDS
        while (pooled := pool.take(NODE_IMAGE)) is None:
            assert time.monotonic() < deadline, "no pool runtime became ready"
            time.sleep(0.05)
        function_dir = Path(pooled.instance.function_dir)
        (function_dir / "index.js").write_text("module.exports = async (c) => c.res.send(process.env.WHO);")
        client = client_for(pooled.instance)
        specialize(client, pooled.secret, {"WHO": "first"}, "index.js")
        with pytest.raises(SpecializationFailed, match="HTTP 409: Runtime is already specialized."):
            specialize(client, pooled.secret, {"WHO": "second"}, "index.js")
        response, body = runtime_http.request(client, "GET", "/", {"x-open-runtimes-secret": pooled.secret})
        assert response.status_code == 200 and body == b"first"
        client.close()
    finally:
        pool.shrink()
        if pooled is not None:
            adapter.remove(pooled.instance)
    assert list(config.work_dir.iterdir()) == []
