"""Fixtures shared by every test package: free ports, waiting for servers, Docker."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 10.0, process=None) -> None:
    """Block until ``host:port`` accepts TCP connections; fail if ``process`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout} s")


def docker_available() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


def require_docker() -> None:
    """Skip without a Docker engine, or fail when OPR_TESTS_REQUIRE_DOCKER=1 (CI)."""
    if docker_available():
        return
    if os.environ.get("OPR_TESTS_REQUIRE_DOCKER") == "1":
        pytest.fail("Docker engine required (OPR_TESTS_REQUIRE_DOCKER=1) but none answers")
    pytest.skip("no Docker engine")


@pytest.fixture(scope="session")
def docker_engine():
    """Use in Docker tests: skips (or fails in CI) when no engine answers."""
    require_docker()
    return True


def pytest_terminal_summary(terminalreporter):
    """Say how many Docker tests really ran, so CI output proves the Docker mode ran."""
    passed = [r for r in terminalreporter.stats.get("passed", []) if "docker" in r.keywords]
    failed = [r for r in terminalreporter.stats.get("failed", []) if "docker" in r.keywords]
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "docker" in r.keywords]
    terminalreporter.write_line(
        f"Docker mode: {len(passed)} docker tests passed ({len(failed)} failed, {len(skipped)} skipped)"
    )
