"""End-to-end: the execution fast path (JSON bodies, ``executor/fastpath.py``) answers exactly
as the Flask views do (url-encoded bodies take the Flask route)."""
from __future__ import annotations

import time

import pytest

from tests.executor.support import NODE_IMAGE, new_id


def both_ways(executor, runtime_id: str, params: dict, **kwargs):
    """The same execution sent as JSON (fast path) and url-encoded (Flask views)."""
    url = f"/v1/runtimes/{runtime_id}/executions"
    fast = executor.post(url, json=params, **kwargs)
    form = {key: value if isinstance(value, str) else str(value).lower() if isinstance(value, bool)
            else str(value) for key, value in params.items()}
    slow = executor.post(url, data=form, **kwargs)
    return fast, slow


@pytest.mark.parametrize("params", [
    {"method": "TRACE"},
    {"timeout": 0},
    {"path": "/" + "p" * 2048},
    {"headers": "[not an object"},
    {"logging": "perhaps"},
    {"image": NODE_IMAGE, "source": "/etc/passwd"},
    {"headers": '{"x-bad": "a\\r\\nb"}'},
    {},  # no runtime, no cold-start parameters: 404
])
def test_errors_are_the_same_on_both_paths(executor, params):
    fast, slow = both_ways(executor, new_id(), params)
    assert fast.status_code == slow.status_code and fast.status_code in (400, 404), fast.text
    assert fast.json() == slow.json()
    for header in ("content-type", "cache-control"):
        assert fast.headers[header] == slow.headers[header]


def test_invalid_runtime_id_is_refused_before_the_body_is_read(executor):
    fast, slow = both_ways(executor, ".hidden", {"timeout": "not a number"})
    assert fast.status_code == slow.status_code == 400
    assert fast.json()["message"].startswith("Invalid runtimeId") and fast.json() == slow.json()


def test_unauthorized_execution(executor):
    response = executor.post(f"/v1/runtimes/{new_id()}/executions", json={"timeout": 5}, auth=False,
                             headers={"authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert response.headers["cache-control"] == "no-cache, no-store, must-revalidate"
    assert response.json()["type"] == "general_unauthorized"


def test_blank_json_body_takes_the_query_parameters(executor):
    response = executor.post(f"/v1/runtimes/{new_id()}/executions?timeout=0", data="  ",
                             headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["message"].startswith("Invalid timeout")


def test_results_are_the_same_on_both_paths(executor, node_artifact):
    runtime_id = new_id("fast")
    cold = executor.post(f"/v1/runtimes/{runtime_id}/executions", json={
        "image": NODE_IMAGE, "source": node_artifact, "timeout": 60})
    assert cold.status_code == 200, cold.text
    try:
        params = {"headers": '{"x-action": "echo", "x-test": "1"}', "body": "hello", "method": "POST",
                  "path": "/a?b=c"}
        fast, slow = both_ways(executor, runtime_id, params)
        assert fast.status_code == slow.status_code == 200
        assert fast.headers["content-type"] == slow.headers["content-type"] == "application/json"
        first, second = fast.json(), slow.json()
        assert first.keys() == second.keys()
        for key in ("statusCode", "body", "headers", "coldStart"):
            assert first[key] == second[key], key
        assert first["timings"]["kind"] == second["timings"]["kind"] == "warm"
    finally:
        executor.delete(f"/v1/runtimes/{runtime_id}")


def test_access_log_line_for_fast_path_requests(executor):
    runtime_id = new_id("logged")
    response = executor.post(f"/v1/runtimes/{runtime_id}/executions", json={"timeout": 5})
    assert response.status_code == 404
    expected = f"POST /v1/runtimes/{runtime_id}/executions 404 "
    deadline = time.monotonic() + 5
    while expected not in executor.log_path.read_text():
        assert time.monotonic() < deadline, "no access-log line for the request"
        time.sleep(0.05)
    line = next(line for line in executor.log_path.read_text().splitlines() if expected in line)
    assert line.endswith(f"runtime={runtime_id}") and "executor.access" in line
