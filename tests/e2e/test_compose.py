"""`make up MODE=docker`: docker-compose.yml + docker-compose.host.yml (services image, docker
adapter, nginx in front), a build and executions through nginx, then `make down`."""
from __future__ import annotations

import subprocess

import pytest

from e2e_support import Client, Deployment

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def containers(*filters: str) -> list[str]:
    args = ["docker", "ps", "-aq"]
    for item in filters:
        args += ["--filter", item]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout.split()


@pytest.fixture(scope="module")
def stack(docker_engine, tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("compose"), mode="docker")
    deployment.make("up", timeout=900)
    yield deployment
    deployment.make("down", check=False)


def test_compose_build_and_execute_through_nginx(stack):
    assert len(containers(f"label=com.docker.compose.project={stack.name}", "status=running")) == 4
    nginx = Client(stack, stack.nginx_port)
    built = nginx.build("node-18.0")
    assert built["path"].startswith(str(stack.run_dir / "storage" / "builds"))
    cold = nginx.execute("node-18.0", "compose-hello", built["path"])
    warm = nginx.execute("node-18.0", "compose-hello", built["path"])
    assert (cold["statusCode"], cold["coldStart"], warm["coldStart"]) == (200, True, False)
    assert "Hello Open Runtimes" in warm["body"]
    # The runtime is a sibling container started by one of the executors.
    runtimes = containers("label=openruntimes-runtime-id=compose-hello")
    assert len(runtimes) == 1


def test_compose_status_and_logs(stack):
    status = stack.make("status").stdout
    assert status.count("pass adapter=docker") == 2, status
    logs = stack.make("logs").stdout
    assert "compose-hello" in logs


def test_compose_down_removes_everything(stack):
    stack.make("down")
    assert containers(f"label=com.docker.compose.project={stack.name}") == []
    for n in (1, 2):
        assert containers(f"label=openruntimes-executor={stack.name}-executor-{n}") == []
