"""`make up` / `make down` end to end (process adapter): a private copy on free ports, driven as a
user would, through the proxy and through Debian's nginx in front of it.

The tests of this module share one copy and run in file order: up, use, fail, down.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from e2e_support import (EXAMPLES, ROOT, Client, Deployment, executor_runtimes, free_port, kill_group,
                         port_open, processes_naming, wait_until)

pytestmark = pytest.mark.slow

NGINX_SITE = ROOT / "deploy" / "nginx.conf"  # the proxy's nginx example, rendered around


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("make-up"))
    deployment.first_up = deployment.make("up")
    yield deployment
    deployment.make("down", check=False)


@pytest.fixture(scope="module")
def proxy(local):
    return Client(local, local.proxy_port)


@pytest.fixture(scope="module")
def artifacts(proxy):
    """The example of every language, built once through the proxy: runtime name -> artifact path."""
    built = {}
    for runtime in EXAMPLES:
        result = proxy.build(runtime)
        assert Path(result["path"]).is_file() and result["size"] > 0
        built[runtime] = result["path"]
    return built


def test_first_up_writes_env_with_fresh_secrets(local):
    assert "wrote" in local.first_up.stdout
    assert stat.S_IMODE(local.env_file.stat().st_mode) == 0o600
    secrets = local.secrets()
    assert re.fullmatch(r"[0-9a-f]{48}", secrets["OPR_PROXY_SECRET"])
    assert re.fullmatch(r"[0-9a-f]{48}", secrets["OPR_EXECUTOR_SECRET"])
    assert secrets["OPR_PROXY_SECRET"] != secrets["OPR_EXECUTOR_SECRET"]
    # The printed commands name this copy's proxy and a build of every language.
    for runtime in EXAMPLES:
        assert f"build-{runtime.split('-')[0]}" in local.first_up.stdout
    assert f"http://127.0.0.1:{local.proxy_port}/v1/runtimes" in local.first_up.stdout


def test_proxy_requires_its_secret(local):
    response = requests.get(f"http://127.0.0.1:{local.proxy_port}/v1/runtimes",
                            headers={"authorization": "Bearer wrong"}, timeout=10)
    assert response.status_code == 401
    assert response.json()["type"] == "proxy_unauthorized"


@pytest.mark.parametrize("runtime", EXAMPLES)
def test_example_runs_cold_then_warm(proxy, artifacts, runtime):
    runtime_id = f"hello-{runtime.replace('.', '-')}"
    cold = proxy.execute(runtime, runtime_id, artifacts[runtime])
    warm = proxy.execute(runtime, runtime_id, artifacts[runtime])
    for result in (cold, warm):
        assert result["statusCode"] == 200, result
        assert '"id":7' in result["body"].replace(" ", ""), result["body"]
        assert "Hello Open Runtimes" in result["body"]
        assert "7" in result["logs"]
    assert cold["coldStart"] is True
    assert warm["coldStart"] is False


def test_runtimes_spread_over_both_executors(local, proxy, artifacts):
    ids = [f"spread-{n}" for n in range(12)]  # all on one executor: 2 in 4096
    for runtime_id in ids:
        assert proxy.execute("php-8.2", runtime_id, artifacts["php-8.2"])["statusCode"] == 200
    first, second = executor_runtimes(local, 0), executor_runtimes(local, 1)
    assert first & set(ids) and second & set(ids), (first, second)
    assert (first | second) >= set(ids)
    assert not first & second & set(ids)  # each runtime lives on exactly one executor


def test_up_again_starts_nothing(local):
    before = {name: local.pid(name) for name in ("proxy", "executor-1", "executor-2")}
    again = local.make("up")
    assert again.stdout.count("already running") == 3, again.stdout
    assert {name: local.pid(name) for name in before} == before


def test_status_and_logs(local):
    status = local.make("status").stdout
    for name, port in (("proxy", local.proxy_port), ("executor-1", local.executor_ports[0]),
                       ("executor-2", local.executor_ports[1])):
        assert re.search(rf"^{name} +up +pid \d+ +127\.0\.0\.1:{port} ", status, re.M), status
    assert status.count("pass adapter=process") == 2, status
    logs = local.make("logs").stdout
    for name in ("proxy", "executor-1", "executor-2"):
        assert f"==> {local.run_dir}/{name}.log <==" in logs
    assert re.search(r"POST /v1/runtimes/spread-\d/executions 200", logs), logs


@pytest.fixture(scope="module")
def nginx(local, tmp_path_factory):
    """Debian's nginx on loopback in front of the proxy, with the deployment's configuration."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    assert os.path.exists(binary), "nginx is not installed (scripts/ensure-deps.sh installs nginx-light)"
    prefix = tmp_path_factory.mktemp("nginx")
    port = free_port()
    subprocess.run([str(ROOT / "deploy" / "nginx" / "render.sh"), str(NGINX_SITE), str(prefix / "nginx.conf")],
                   check=True, env={**os.environ, "OPR_NGINX_LISTEN": f"127.0.0.1:{port}",
                                    "OPR_NGINX_UPSTREAM": f"127.0.0.1:{local.proxy_port}"})
    process = subprocess.Popen([binary, "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"),
                                "-e", "stderr", "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_until(lambda: port_open(port) or process.poll() is not None, "nginx to listen")
        assert process.poll() is None, process.stderr.read().decode()
        yield Client(local, port)
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=10)


def test_through_nginx_build_and_execute(nginx):
    built = nginx.build("node-18.0", runtime_id="nginx-build")
    cold = nginx.execute("node-18.0", "nginx-hello", built["path"])
    warm = nginx.execute("node-18.0", "nginx-hello", built["path"])
    assert (cold["statusCode"], cold["coldStart"], warm["coldStart"]) == (200, True, False)


def test_through_nginx_execution_body_at_the_executor_limit(nginx, artifacts):
    """nginx's body size limit matches the services': the largest body the executor takes gets through."""
    body = "a" * (20 * 1024 * 1024)  # executor/api/executions.py BODY_LIMIT
    response = nginx.session.post(
        f"{nginx.base}/v1/runtimes/nginx-big/executions", timeout=120, headers={"x-opr-runtime-id": "nginx-big"},
        json={"image": "openruntimes/php:v3-8.2", "source": artifacts["php-8.2"], "entrypoint": "index.php",
              "method": "POST", "body": body, "timeout": 60})
    assert response.status_code == 200, response.text[:300]
    assert response.json()["statusCode"] == 200


def test_through_nginx_build_log_streams_while_the_build_runs(nginx):
    """The log stream reaches the client piece by piece: the first line arrives before the build ends."""
    runtime_id = "nginx-stream"
    headers = {"x-opr-runtime-id": runtime_id}  # affinity: the stream and the build meet on one executor
    build_done = threading.Event()
    received: list[tuple[bytes, bool]] = []

    def follow():
        with nginx.session.get(f"{nginx.base}/v1/runtimes/{runtime_id}/logs?timeout=60", headers=headers,
                               stream=True, timeout=60) as response:
            assert response.status_code == 200
            for chunk in response.iter_content(chunk_size=None):
                received.append((chunk, build_done.is_set()))

    follower = threading.Thread(target=follow)
    follower.start()
    try:
        response = nginx.session.post(f"{nginx.base}/v1/runtimes", headers=headers, timeout=120, json={
            "runtimeId": runtime_id, "image": "openruntimes/php:v3-8.2", "remove": True,
            "command": "echo first-line; sleep 3; echo second-line"})
        build_done.set()
    finally:
        follower.join(timeout=90)
    assert response.status_code == 201, response.text
    assert not follower.is_alive(), "the log stream did not end after the build"
    streamed = b"".join(chunk for chunk, _ in received).decode()
    assert streamed == response.json()["output"]
    first_arrival = next(after for chunk, after in received if b"first-line" in chunk)
    assert first_arrival is False, "the first line arrived only after the build had finished (buffered)"


def test_executor_killed_while_requests_flow(local, proxy, artifacts):
    """No request hangs, traffic moves to the survivor, and the restarted executor rejoins."""
    artifact = artifacts["php-8.2"]
    victim_port = local.executor_ports[1]
    outcomes: list[int | str] = []
    stop = threading.Event()

    def load(worker: int):
        n = 0
        while not stop.is_set() and n < 200:
            runtime_id = f"flow-{worker}-{n % 4}"
            try:
                response = proxy.session.post(
                    f"{proxy.base}/v1/runtimes/{runtime_id}/executions", timeout=60,
                    headers={"x-opr-runtime-id": runtime_id},
                    json={"image": "openruntimes/php:v3-8.2", "source": artifact, "entrypoint": "index.php",
                          "timeout": 30})
                outcomes.append(response.status_code)
            except requests.RequestException as error:  # a client timeout would mean a hang
                outcomes.append(type(error).__name__)
            n += 1

    workers = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    for worker in workers:
        worker.start()
    try:
        wait_until(lambda: len(outcomes) >= 8, "requests to flow", timeout=60)
        kill_group(local.pid("executor-2"))
        killed_at = len(outcomes)
        wait_until(lambda: len(outcomes) >= killed_at + 24, "requests after the kill", timeout=120)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=90)
    assert not any(worker.is_alive() for worker in workers), "a request hung"
    assert not [o for o in outcomes if isinstance(o, str)], outcomes
    # Requests in flight on the killed executor may fail (502); once the proxy saw it go, all succeed.
    assert set(outcomes[:killed_at]) == {200}, outcomes[:killed_at]
    assert outcomes[-12:] == [200] * 12, outcomes[killed_at:]
    assert not port_open(victim_port)

    # make up restarts only the dead executor; the proxy re-admits it at a later health round.
    again = local.make("up")
    assert again.stdout.count("already running") == 2, again.stdout
    attempts = iter(range(60))

    def rejoined():
        # Fresh ids each round: ids already warm on the survivor would stay there (affinity).
        ids = {f"rejoin-{next(attempts)}-{n}" for n in range(8)}
        for runtime_id in ids:
            proxy.execute("php-8.2", runtime_id, artifact)
        return executor_runtimes(local, 1) & ids

    wait_until(rejoined, "the restarted executor to receive runtimes", timeout=60, interval=1)


def test_down_leaves_nothing(local):
    pids = [local.pid(name) for name in ("proxy", "executor-1", "executor-2")]
    assert processes_naming(str(local.run_dir)), "runtimes should be running before make down"
    local.make("down")
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or "zombie" in Path(f"/proc/{pid}/status").read_text()
    assert processes_naming(str(local.run_dir)) == []
    for port in (local.proxy_port, *local.executor_ports):
        assert not port_open(port)
    status = local.make("status").stdout
    assert status.count(" down") == 3, status
