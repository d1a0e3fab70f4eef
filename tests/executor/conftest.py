"""Fixtures of the executor tests (helpers live in ``support.py``)."""
from __future__ import annotations

import time

import pytest

from tests.executor.support import NODE_IMAGE, ensure_image, leftovers, start_executor


@pytest.fixture(scope="session")
def executors_root(tmp_path_factory):
    """The root of every test executor; checked for leftovers once all of them stopped."""
    root = tmp_path_factory.mktemp("executors")
    yield root
    deadline = time.monotonic() + 10
    while leftovers(root) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert leftovers(root) == [], "the executor tests left runtimes behind"


@pytest.fixture(scope="session", params=["process", pytest.param("docker", marks=pytest.mark.docker)])
def executor(request, executors_root):
    """A shared executor per adapter (docker: host network, the node image)."""
    if request.param == "docker":
        request.getfixturevalue("docker_engine")
        ensure_image("node-18.0", NODE_IMAGE)
    server = start_executor(executors_root, f"shared-{request.param}", adapter=request.param)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def node_artifact(executor) -> str:
    """The node test function, built once per shared executor."""
    return executor.build("node")


