"""Health: parsing /v1/health answers, and the monitor against real stand-in executors."""
import json

import pytest

from proxy.config import ProxyConfig
from proxy.health import ExecutorState, HealthMonitor, parse_health
from proxy.reporting import Reporter
from proxy_harness import StandIn, free_port


def body(document) -> bytes:
    return json.dumps(document).encode()


def test_pass_with_usage_and_warm_runtimes():
    report = parse_health(200, body({"status": "pass", "usage": 42.5, "runtimes": {
        "r1": {"status": "pass", "usage": 10, "inflight": 2},
        "r2": {"status": "fail", "usage": 5},
        "r3": "not an object",
        "r4": {"status": "pass"}}}))
    assert report.usage == 42.5
    assert set(report.runtimes) == {"r1", "r4"}
    assert (report.runtimes["r1"].usage, report.runtimes["r1"].inflight) == (10, 2)
    assert (report.runtimes["r4"].usage, report.runtimes["r4"].inflight) == (None, None)


def test_usage_may_be_null_and_runtimes_absent():
    report = parse_health(200, body({"status": "pass", "usage": None}))
    assert report.usage is None and report.runtimes == {}


@pytest.mark.parametrize("status, payload", [
    (500, body({"status": "pass"})),
    (200, body({"status": "fail"})),
    (200, body({"usage": 1})),
    (200, b"not json"),
    (200, b"\xff\xfe"),
    (200, body(["status", "pass"])),
    (204, b""),
])
def test_anything_else_is_offline(status, payload):
    assert parse_health(status, payload) is None


@pytest.fixture
def executors():
    pair = [StandIn("a").start(), StandIn("b").start()]
    yield pair
    for standin in pair:
        standin.stop()


def monitor_for(names, report_error=lambda message: None, **overrides):
    config = ProxyConfig.from_env({"OPR_PROXY_EXECUTORS": ",".join(names),
                                   "OPR_PROXY_EXECUTOR_SECRET": "exec-secret", **overrides})
    states = [ExecutorState(executor, index) for index, executor in enumerate(config.executors)]
    return HealthMonitor(config, states, report_error), states


def test_round_reads_state_and_sends_the_executor_secret(executors):
    a, b = executors
    a.control(usage=55, runtimes={"rt-1": {"status": "pass", "usage": 3, "inflight": 1}})
    monitor, (state_a, state_b) = monitor_for([a.name, b.name])
    try:
        monitor.run_round()
        assert state_a.online and state_b.online
        assert state_a.usage == 55 and set(state_a.runtimes) == {"rt-1"}
        assert state_a.runtimes["rt-1"].inflight == 1
        assert state_b.runtimes == {}
        assert a.stats()["health_auth"] == ["Bearer exec-secret"]
    finally:
        monitor.stop()


def test_exclusion_and_readmission(executors):
    a, b = executors
    offline_reports = []
    monitor, (state_a, state_b) = monitor_for([a.name, b.name], offline_reports.append)
    try:
        monitor.run_round()
        a.control(runtimes={"rt": {"status": "pass"}})
        monitor.run_round()
        assert "rt" in state_a.runtimes
        a.control(status="fail")
        monitor.run_round()
        assert not state_a.online and state_a.runtimes == {} and state_b.online
        assert len(offline_reports) == 1 and a.name in offline_reports[0]
        monitor.run_round()
        assert len(offline_reports) == 1  # a transition is reported once
        a.control(status="pass", http_status=503)
        monitor.run_round()
        assert not state_a.online
        a.control(http_status=200)
        monitor.run_round()
        assert state_a.online
        b.kill()
        monitor.run_round()
        assert not state_b.online and "Connection refused" in offline_reports[-1]
    finally:
        monitor.stop()


def test_unreachable_port_is_offline_and_checks_run_concurrently(executors):
    a, _ = executors
    monitor, (state_a, state_dead) = monitor_for([a.name, f"127.0.0.1:{free_port()}"])
    try:
        monitor.run_round()
        assert state_a.online and not state_dead.online
    finally:
        monitor.stop()


def test_disabled_checks_keep_everything_online_without_requests(executors):
    a, _ = executors
    dead = f"127.0.0.1:{free_port()}"
    monitor, states = monitor_for([a.name, dead], OPR_PROXY_HEALTHCHECK="disabled")
    monitor.ensure_started()
    monitor.mark_offline(states[1], "refused")  # forwarding failures do not exclude either
    assert all(state.online and state.usage is None and state.runtimes == {} for state in states)
    assert a.stats()["health_checks"] == 0
    monitor.stop()


def test_heartbeat_only_after_a_round_where_all_are_online(executors):
    a, b = executors
    monitor, _ = monitor_for([a.name], OPR_PROXY_HEALTHCHECK_URL=f"{b.url}/heartbeat?token=t")
    try:
        monitor.run_round()
        assert b.stats()["paths"] == ["/heartbeat"]
        a.control(status="fail")
        monitor.run_round()
        assert b.stats()["paths"] == ["/heartbeat"]
    finally:
        monitor.stop()


def test_heartbeat_failure_is_not_fatal(executors):
    a, _ = executors
    monitor, (state,) = monitor_for([a.name], OPR_PROXY_HEALTHCHECK_URL=f"http://127.0.0.1:{free_port()}/hb")
    try:
        monitor.run_round()
        assert state.online
    finally:
        monitor.stop()


def test_loop_repeats_on_the_interval(executors):
    import gevent

    a, _ = executors
    monitor, (state,) = monitor_for([a.name], OPR_PROXY_HEALTHCHECK_INTERVAL="100")
    try:
        monitor.ensure_started()
        assert a.stats()["health_checks"] == 1  # the first round ran before returning
        a.control(status="fail")
        for _ in range(50):
            gevent.sleep(0.1)
            if not state.online:
                break
        assert not state.online
        assert a.stats()["health_checks"] >= 2
    finally:
        monitor.stop()


def test_sentry_provider_receives_offline_events(executors):
    """The reporter sends to a real HTTP endpoint given as DSN (the stand-in records the path)."""
    import sentry_sdk

    a, sink = executors
    config = ProxyConfig.from_env({"OPR_PROXY_EXECUTORS": "x", "OPR_PROXY_LOGGING_PROVIDER": "sentry",
                                   "OPR_PROXY_LOGGING_CONFIG": f"http://publickey@{sink.name}/42"})
    try:
        reporter = Reporter(config)
        reporter.error("executor x went offline: test")
        sentry_sdk.flush(timeout=10)
        assert any(path.startswith("/api/42/") for path in sink.stats()["paths"])
    finally:
        sentry_sdk.init()  # back to no client
