"""deploy/swarm-stack.yml on a single-node swarm (initialised on 127.0.0.1 when none is active, and
left again afterwards): deploy the stack, build and run an example through the proxy, remove it."""
from __future__ import annotations

import os
import secrets
import subprocess
import tarfile
import time

import pytest
import requests

from e2e_support import ROOT, Client, Deployment, free_port, wait_until

pytestmark = [pytest.mark.docker, pytest.mark.slow]

STACK_FILE = ROOT / "deploy" / "swarm-stack.yml"


def docker(*args: str, check: bool = True, input: str | None = None) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, input=input, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def runtime_containers(prefix: str) -> list[str]:
    """Runtime containers started by this stack's executors (labelled <prefix>-<node hostname>)."""
    found = []
    for container in docker("ps", "-aq", "--filter", "label=openruntimes-executor").split():
        label = docker("inspect", "--format", '{{index .Config.Labels "openruntimes-executor"}}', container,
                       check=False)
        if label.startswith(f"{prefix}-"):
            found.append(container)
    return found


@pytest.fixture(scope="module")
def swarm(docker_engine):
    """A swarm manager: the engine's own, or one this fixture initialises and leaves at the end."""
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}").strip()
    initialised = state != "active"
    if initialised:
        docker("swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", f"127.0.0.1:{free_port()}")
    yield
    if initialised:
        docker("swarm", "leave", "--force", check=False)


@pytest.fixture(scope="module")
def stack(swarm, tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("swarm"), mode="swarm")
    run = deployment.run_dir
    (run / "storage" / "examples").mkdir(parents=True)
    (run / "storage" / "builds").mkdir()
    (run / "docker").mkdir()
    with tarfile.open(run / "storage" / "examples" / "node.tar.gz", "w:gz") as archive:
        archive.add(ROOT / "runtimes" / "node" / "example", arcname=".")
    values = {"OPR_PROXY_SECRET": secrets.token_hex(24), "OPR_EXECUTOR_SECRET": secrets.token_hex(24)}
    deployment.env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    prefix = deployment.name
    docker("secret", "create", f"{prefix}_proxy_secret", "-", input=values["OPR_PROXY_SECRET"])
    docker("secret", "create", f"{prefix}_executor_secret", "-", input=values["OPR_EXECUTOR_SECRET"])
    executor_port = deployment.executor_ports[0]
    env = {**os.environ,
           "OPR_NAME": prefix, "OPR_SECRET_PREFIX": prefix, "OPR_RUN_DIR": str(run),
           "OPR_EXECUTOR_BIND": f"127.0.0.1:{executor_port}",
           "OPR_EXECUTOR_PORT_RANGE": f"{deployment.runtime_ports}-{deployment.runtime_ports + 999}",
           "OPR_PROXY_BIND": f"127.0.0.1:{deployment.proxy_port}",
           "OPR_PROXY_EXECUTORS": f"127.0.0.1:{executor_port}",
           "OPR_PROXY_HEALTHCHECK_INTERVAL": "1000",
           "OPR_PROXY_REPLICAS": "1"}
    subprocess.run(["make", "-C", str(ROOT), "--no-print-directory", "images", "RUNTIME=node-18.0"],
                   check=True, capture_output=True, timeout=900)
    subprocess.run([str(ROOT / "scripts" / "build-services-image.sh")], check=True, capture_output=True, timeout=900)
    try:
        result = subprocess.run(["docker", "stack", "deploy", "--resolve-image", "never", "-c", str(STACK_FILE), prefix],
                                env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        yield deployment
    finally:
        docker("stack", "rm", prefix, check=False)
        # stack rm returns at once; the services' containers stop (and the executor removes its
        # runtimes) in the background.
        wait_until(lambda: not docker("ps", "-aq", "--filter", f"label=com.docker.stack.namespace={prefix}"),
                   "the stack's containers to go", timeout=60, interval=1)
        mine = runtime_containers(prefix)
        if mine:
            docker("rm", "-f", *mine, check=False)
        docker("secret", "rm", f"{prefix}_proxy_secret", f"{prefix}_executor_secret", check=False)


def test_swarm_stack_serves_an_execution(stack):
    services = docker("stack", "services", stack.name, "--format", "{{.Name}} {{.Mode}} {{.Replicas}}")
    assert f"{stack.name}_executor global" in services
    assert f"{stack.name}_proxy replicated" in services
    proxy = Client(stack, stack.proxy_port)

    def proxy_ready():
        try:
            return requests.get(f"{proxy.base}/v1/proxy/status", headers=proxy.session.headers, timeout=2).ok
        except requests.RequestException:
            return False

    try:
        wait_until(proxy_ready, "the proxy to see the executor online", timeout=90, interval=1)
    except AssertionError as error:
        tasks = docker("service", "ps", "--no-trunc", f"{stack.name}_executor", f"{stack.name}_proxy", check=False)
        logs = "".join(docker("service", "logs", "--tail", "20", f"{stack.name}_{s}", check=False)
                       for s in ("executor", "proxy"))
        raise AssertionError(f"{error}\n{tasks}\n{logs}") from None
    built = proxy.build("node-18.0", runtime_id="swarm-build")
    result = proxy.execute("node-18.0", "swarm-hello", built["path"])
    assert result["statusCode"] == 200 and result["coldStart"] is True
    assert "Hello Open Runtimes" in result["body"]
    # Secrets come from Docker secrets: a wrong key is refused.
    wrong = requests.get(f"{proxy.base}/v1/runtimes", headers={"authorization": "Bearer nope"}, timeout=5)
    assert wrong.status_code == 401


def test_swarm_stack_removal_leaves_nothing(stack):
    assert runtime_containers(stack.name), "the execution's runtime should be running"
    docker("stack", "rm", stack.name)
    wait_until(lambda: not docker("ps", "-aq", "--filter", f"label=com.docker.stack.namespace={stack.name}"),
               "the stack's containers to go", timeout=60, interval=1)
    # The executor removed its runtimes when it was stopped (SIGTERM), before exiting.
    assert runtime_containers(stack.name) == []
