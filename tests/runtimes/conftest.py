"""Fixtures of the runtime suite: one parametrization over (runtime, mode, entrypoint variant).

``target`` runs a test once per variant, ``runtime_mode`` once per (runtime, mode). The shared
``server`` of a target is session-scoped, so the many single-request checks use one process or
container; tests with special settings start their own through ``spawn``.
"""
from __future__ import annotations

import re
from collections import defaultdict

import pytest

from .harness import Harness
from .instances import Build, Server
from .targets import Target, all_targets, runtime_modes


def _params(targets: list[Target], with_entrypoint: bool) -> list:
    return [
        pytest.param(t, id=t.id(with_entrypoint),
                     marks=[pytest.mark.docker] if t.mode == "docker" else [])
        for t in targets
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" in metafunc.fixturenames:
        metafunc.parametrize("target", _params(all_targets(), True), indirect=True, scope="session")
    elif "runtime_mode" in metafunc.fixturenames:
        metafunc.parametrize("runtime_mode", _params(runtime_modes(), False), indirect=True,
                             scope="session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A ``@pytest.mark.languages(...)`` test runs only for those languages: the others are
    deselected (it is about a language-specific feature, so they are not skipped either)."""
    kept, dropped = [], []
    for item in items:
        marker = item.get_closest_marker("languages")
        params = getattr(getattr(item, "callspec", None), "params", {})
        target = params.get("target") or params.get("runtime_mode")
        if marker and target is not None and target.language not in marker.args:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _resolve(request: pytest.FixtureRequest) -> Target:
    target: Target = request.param
    if target.mode == "docker":
        request.getfixturevalue("docker_engine")  # skips, or fails in CI, without an engine
    return target


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    """A runtime, a mode and the entrypoint variant of its test function."""
    return _resolve(request)


@pytest.fixture(scope="session")
def runtime_mode(request: pytest.FixtureRequest) -> Target:
    """A runtime and a mode (with the language's first entrypoint variant)."""
    return _resolve(request)


@pytest.fixture(scope="session")
def harness():
    harness = Harness()
    yield harness
    harness.close()


@pytest.fixture(scope="session")
def build(harness: Harness, target: Target) -> Build:
    """The target's test function, built with the default build command."""
    return harness.build(target)


@pytest.fixture(scope="session")
def server(harness: Harness, target: Target, build: Build):
    """The target's shared runtime: 9.1 environment, non-default port, a logs dir."""
    if build.returncode != 0:
        pytest.fail(f"the test function does not build: {build.describe()}")
    server = harness.start(target, build)
    yield server
    harness.stop(server)


@pytest.fixture
def spawn(harness: Harness):
    """Start extra runtimes for one test (``spawn(target, env=..., ...)``); stopped after it."""
    started: list[Server] = []

    def start(target: Target, *args, **kwargs) -> Server:
        server = harness.start(target, *args, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        harness.stop(server)


# Seconds spent per (runtime, mode), setup and teardown included: the CI budget is per suite.
_DURATIONS: dict[str, float] = defaultdict(float)
_ID = re.compile(r"\[([a-z]+-[0-9.]+-(?:process|docker))")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    match = _ID.search(report.nodeid)
    if match:
        _DURATIONS[match.group(1)] += report.duration


def pytest_terminal_summary(terminalreporter) -> None:
    if _DURATIONS:
        spent = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in sorted(_DURATIONS.items()))
        terminalreporter.write_line(f"Runtime suite durations: {spent} (total {sum(_DURATIONS.values()):.0f} s)")
