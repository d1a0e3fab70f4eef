"""Fixtures of the executor tests (helpers live in ``support.py``)."""
from __future__ import annotations

import time

import pytest

from tests.executor.support import leftovers, start_for_adapter


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
    server = start_for_adapter(request, executors_root, "shared")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def node_artifact(executor) -> str:
    """The node test function, built once per shared executor."""
    return executor.build("node")


