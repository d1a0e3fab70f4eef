"""End to end: the proxy served by gunicorn in front of real stand-in executor processes."""
from __future__ import annotations

import hashlib
import http.client
import json
import subprocess
import sys
import time

import pytest
import requests

from proxy_harness import GUNICORN_CONF, ROOT, Proxy, StandIn, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def trio():
    executors = [StandIn(label).start() for label in ("a", "b", "c")]
    yield executors
    for executor in executors:
        executor.stop()


@pytest.fixture
def start_proxy(tmp_path):
    started = []

    def start(executors, **env) -> Proxy:
        proxy = Proxy([e.name if isinstance(e, StandIn) else e for e in executors], **env).start(tmp_path)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


def raw_request(proxy: Proxy, method: str, target: str, headers: dict, body: bytes = b""):
    """One request over http.client: exact control of the headers sent."""
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        if body:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def wait_until(condition, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting until {what}")


# -- the proxy's own endpoint and authentication ------------------------------------------

def test_health_endpoint_needs_no_secret(trio, start_proxy):
    proxy = start_proxy(trio[:1])
    response = requests.get(f"{proxy.url}/v1/proxy/health", timeout=10)
    assert (response.status_code, response.text) == (200, "OK")
    assert response.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Bearer", "proxy-secret", "Basic proxy-secret-x"])
def test_wrong_or_missing_secret_is_401_and_reaches_no_executor(trio, start_proxy, authorization):
    proxy = start_proxy(trio[:1])
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.get(f"{proxy.url}/v1/runtimes", headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json() == {"message": "Incorrect proxy key.", "code": 401, "type": "proxy_unauthorized",
                               "version": response.json()["version"]}
    assert "proxy-secret" not in response.text
    assert trio[0].stats()["served"] == 0


# -- the forwarded request and response ---------------------------------------------------

def test_request_is_forwarded_unchanged_with_the_executor_secret(trio, start_proxy):
    proxy = start_proxy(trio[:1])
    body = b'{"hello": "world"}'
    status, headers, payload = raw_request(proxy, "POST", "/v1/runtimes/a%2Fb/exec?x=1&y=%20z&x=2", {
        "Host": "proxy.example", "Authorization": "Bearer proxy-secret", "Content-Type": "application/json",
        "X-Custom": "kept", "Connection": "keep-alive, X-Drop-Me", "X-Drop-Me": "gone", "Keep-Alive": "timeout=5",
        "TE": "trailers", "Proxy-Connection": "keep-alive", "Upgrade": "h2c", "Trailer": "X-T",
        "X-Forwarded-For": "203.0.113.7",
    }, body)
    assert status == 200
    echo = json.loads(payload)
    sent = {name.lower(): value for name, value in echo["headers"]}
    assert echo["method"] == "POST"
    assert echo["raw_path"] == "/v1/runtimes/a%2Fb/exec?x=1&y=%20z&x=2"
    assert echo["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert sent["authorization"] == "Bearer executor-secret"
    assert sent["x-custom"] == "kept" and sent["content-type"] == "application/json"
    for hop in ("x-drop-me", "keep-alive", "te", "proxy-connection", "upgrade", "trailer", "transfer-encoding"):
        assert hop not in sent, hop
    assert sent.get("connection", "keep-alive").lower() == "keep-alive"
    assert sent["x-forwarded-for"] == "203.0.113.7, 127.0.0.1"
    assert sent["x-forwarded-proto"] == "http" and sent["x-forwarded-host"] == "proxy.example"
    assert "x-opr-executor-hostname" not in sent  # production mode
    # The response's end-to-end headers come back, repeated ones included.
    assert [value for name, value in headers if name.lower() == "set-cookie"] == ["a=1", "b=2"]
    assert dict(headers)["X-Executor"] == "a"


def test_forwarded_headers_already_set_are_kept(trio, start_proxy):
    proxy = start_proxy(trio[:1])
    echo = proxy.get("/x", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "outer.example"}).json()
    sent = {name.lower(): value for name, value in echo["headers"]}
    assert (sent["x-forwarded-proto"], sent["x-forwarded-host"]) == ("https", "outer.example")


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_every_method_is_forwarded(trio, start_proxy, method):
    proxy = start_proxy(trio[:1])
    response = proxy.request(method, "/v1/functions?q=1", data=b"body" if method in ("POST", "PUT", "PATCH") else None)
    assert response.status_code == 200
    assert response.json()["method"] == method and response.json()["query"] == "q=1"


def test_head_and_executor_statuses_pass_through(trio, start_proxy):
    proxy = start_proxy(trio[:1])
    head = proxy.request("HEAD", "/x")
    assert head.status_code == 200 and head.content == b"" and int(head.headers["Content-Length"]) > 0
    assert proxy.get("/x?status=404").status_code == 404
    assert proxy.get("/x?status=500").status_code == 500


def test_development_mode_names_the_executor(trio, start_proxy):
    proxy = start_proxy(trio[:2], OPR_PROXY_ENV="development")
    for _ in range(2):
        echo = proxy.get("/x", headers={"x-opr-executor-hostname": "spoofed"}).json()
        sent = {name.lower(): value for name, value in echo["headers"]}
        owner = next(e for e in trio if e.label == echo["executor"])
        assert sent["x-opr-executor-hostname"] == owner.name


# -- algorithms and addressing methods ----------------------------------------------------

@pytest.mark.parametrize("algorithm, expected", [
    ("round-robin", ["a", "b", "c", "a", "b", "c"]),
    ("first", ["a"] * 6),
    ("last", ["c"] * 6),
])
def test_algorithm_order(trio, start_proxy, algorithm, expected):
    proxy = start_proxy(trio, OPR_PROXY_ALGORITHM=algorithm)
    assert [proxy.get("/x").json()["executor"] for _ in expected] == expected


def test_random_algorithm_reaches_every_executor(trio, start_proxy):
    proxy = start_proxy(trio, OPR_PROXY_ALGORITHM="random")
    seen = {proxy.get("/x").json()["executor"] for _ in range(60)}
    assert seen == {"a", "b", "c"}


def test_anycast_fast_reaches_every_executor(trio, start_proxy):
    proxy = start_proxy(trio, OPR_PROXY_ALGORITHM="first")
    seen = {proxy.get("/x", headers={"x-opr-addressing-method": "anycast-fast", "x-opr-runtime-id": "r"}).json()["executor"]
            for _ in range(60)}
    assert seen == {"a", "b", "c"}


def test_unknown_addressing_method_is_400(trio, start_proxy):
    proxy = start_proxy(trio[:1])
    response = proxy.get("/x", headers={"x-opr-addressing-method": "multicast"})
    assert response.status_code == 400 and "multicast" in response.json()["message"]


def test_broadcast_reaches_every_online_executor_and_answers_204(trio, start_proxy):
    dead = f"127.0.0.1:{free_port()}"
    proxy = start_proxy([*trio, dead], OPR_PROXY_HEALTHCHECK="disabled")  # dead one counts as online
    response = proxy.request("DELETE", "/v1/cache?key=1", data=b"payload",
                             headers={"x-opr-addressing-method": "broadcast"})
    assert response.status_code == 204 and response.content == b""
    for executor in trio:
        assert executor.stats()["paths"] == ["/v1/cache"]


# -- runtime affinity ---------------------------------------------------------------------

def test_runtime_affinity_is_stable_moves_when_down_and_comes_back(trio, start_proxy):
    proxy = start_proxy(trio, OPR_PROXY_ALGORITHM="round-robin")
    by_label = {e.label: e for e in trio}

    def owners(runtime_id, count=8):
        return {proxy.get("/x", headers={"x-opr-runtime-id": runtime_id}).json()["executor"] for _ in range(count)}

    homes = {}
    for runtime_id in ("rt-alpha", "rt-beta", "rt-gamma", "rt-delta"):
        found = owners(runtime_id)
        assert len(found) == 1, (runtime_id, found)  # round-robin does not spread one runtime
        homes[runtime_id] = found.pop()
    # A second proxy replica, no shared state, agrees.
    replica = start_proxy(trio, OPR_PROXY_ALGORITHM="last")
    for runtime_id, home in homes.items():
        assert replica.get("/x", headers={"x-opr-runtime-id": runtime_id}).json()["executor"] == home

    runtime_id, home = next(iter(homes.items()))
    executor = by_label[home]
    executor.kill()
    moved = owners(runtime_id)
    assert len(moved) == 1 and moved != {home}
    # Runtimes homed elsewhere did not move.
    for other_id, other_home in homes.items():
        if other_home != home:
            assert owners(other_id, 2) == {other_home}
    executor.start()  # same port: the executor recovers
    wait_until(lambda: owners(runtime_id, 1) == {home}, "the runtime returns to its executor")
    assert owners(runtime_id) == {home}


def test_a_runtime_reported_warm_goes_to_its_executor(trio, start_proxy):
    trio[2].control(runtimes={"rt-warm": {"status": "pass", "usage": 5}})
    trio[0].control(runtimes={"rt-busy": {"status": "pass", "usage": 99}})
    proxy = start_proxy(trio, OPR_PROXY_ALGORITHM="first")
    assert {proxy.get("/x", headers={"x-opr-runtime-id": "rt-warm"}).json()["executor"] for _ in range(6)} == {"c"}


def test_loaded_executors_are_avoided(trio, start_proxy):
    trio[0].control(usage=95)
    proxy = start_proxy(trio, OPR_PROXY_ALGORITHM="first")
    assert {proxy.get("/x").json()["executor"] for _ in range(6)} == {"b"}


# -- streaming and large bodies -----------------------------------------------------------

@pytest.mark.parametrize("path", ["/stream?n=4&delay=0&gated=1", "/v1/runtimes/rt-1/logs?n=4&delay=0&gated=1"])
def test_a_stream_reaches_the_client_while_the_executor_is_still_producing(trio, start_proxy, path):
    """The executor sends one piece then waits for the gate: the client must get that piece first."""
    executor = trio[0]
    executor.control(gate="closed")
    proxy = start_proxy([executor])
    response = proxy.get(path, stream=True, timeout=20)
    assert response.status_code == 200
    pieces = response.iter_content(chunk_size=None)
    first = next(pieces)  # would time out if the proxy buffered the whole response
    assert b"0" in first and b"1" not in first
    executor.control(gate="open")
    rest = b"".join(pieces)
    assert b"3" in rest
    if "logs" in path:
        assert response.headers["Content-Type"] == "text/event-stream"
        assert (first + rest).count(b"data: ") == 4


def test_twenty_mebibytes_both_ways(trio, start_proxy):
    proxy = start_proxy(trio[:1])
    size = 20 * 1024 * 1024
    body = bytes(range(256)) * (size // 256)
    response = proxy.request("POST", "/upload", data=body)
    assert response.json()["body_length"] == size
    assert response.json()["body_sha256"] == hashlib.sha256(body).hexdigest()
    # Chunked upload (no Content-Length).
    response = proxy.request("POST", "/upload", data=(body[i:i + (1 << 20)] for i in range(0, size, 1 << 20)))
    assert response.json()["body_length"] == size
    assert response.json()["body_sha256"] == hashlib.sha256(body).hexdigest()
    echoed = proxy.request("PUT", "/echo?raw=1", data=body)
    assert len(echoed.content) == size and echoed.content == body
    download = proxy.get(f"/big?size={size}")
    assert len(download.content) == size
    assert hashlib.sha256(download.content).hexdigest() == download.headers["X-Sha256"]


# -- failures -----------------------------------------------------------------------------

def test_executor_dying_mid_run_moves_traffic_and_ends_in_503(trio, start_proxy):
    a, b = trio[:2]
    proxy = start_proxy([a, b])
    assert {proxy.get("/x").json()["executor"] for _ in range(4)} == {"a", "b"}
    a.kill()
    answers = [proxy.get("/x") for _ in range(10)]
    assert [r.status_code for r in answers] == [200] * 10  # connect failures go to the other
    assert {r.json()["executor"] for r in answers} == {"b"}
    b.kill()
    first = proxy.get("/x")
    assert first.status_code in (502, 503)
    if first.status_code == 502:
        assert first.json()["type"] == "proxy_executor_unreachable" and b.name in first.json()["message"]
    response = proxy.get("/x")
    assert response.status_code == 503
    assert {k: response.json()[k] for k in ("message", "code", "type")} == {
        "message": "No online executor found", "code": 503, "type": "proxy_no_executor"}
    assert "trace" not in response.json()
    a.start()
    wait_until(lambda: proxy.get("/x").status_code == 200, "the executor is re-admitted")


def test_executor_dying_mid_response_closes_the_client_connection(trio, start_proxy):
    executor = trio[0]
    executor.control(gate="closed")
    proxy = start_proxy([executor, trio[1]], OPR_PROXY_ALGORITHM="first")
    response = proxy.get("/stream?n=5&delay=0&gated=1", stream=True, timeout=20)
    pieces = response.iter_content(chunk_size=None)
    assert b"piece 0" in next(pieces)
    executor.kill()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        b"".join(pieces)
    assert proxy.get("/x").json()["executor"] == "b"


def test_failure_before_answering_is_502_naming_the_executor_and_post_is_not_retried(trio, start_proxy):
    a, b = trio[:2]
    proxy = start_proxy([a, b], OPR_PROXY_ALGORITHM="first")
    response = proxy.request("POST", "/hangup", data=b"once")
    assert response.status_code == 502
    assert response.json()["type"] == "proxy_executor_unreachable" and a.name in response.json()["message"]
    assert a.stats()["paths"] == ["/hangup"] and b.stats()["paths"] == []


def test_unreachable_executor_alone_is_502(start_proxy):
    dead = f"127.0.0.1:{free_port()}"
    proxy = start_proxy([dead], OPR_PROXY_HEALTHCHECK="disabled")
    response = proxy.get("/x")
    assert response.status_code == 502
    assert response.json()["type"] == "proxy_executor_unreachable"
    assert dead in response.json()["message"] and "refused" in response.json()["message"]


def test_total_timeout_is_504_naming_the_executor(trio, start_proxy):
    proxy = start_proxy(trio[:1], OPR_PROXY_MAX_TIMEOUT="1")
    response = proxy.get("/slow?delay=4")
    assert response.status_code == 504
    assert response.json()["type"] == "proxy_timeout" and trio[0].name in response.json()["message"]
    assert proxy.get("/x").status_code == 200  # the executor stays in use


def test_development_errors_carry_a_trace_production_errors_do_not(start_proxy):
    dead = f"127.0.0.1:{free_port()}"
    production = start_proxy([dead], OPR_PROXY_HEALTHCHECK="disabled").get("/x").json()
    assert set(production) == {"message", "code", "type", "version"}
    development = start_proxy([dead], OPR_PROXY_HEALTHCHECK="disabled", OPR_PROXY_ENV="development").get("/x").json()
    assert {"file", "line", "trace"} <= set(development)


def test_invalid_configuration_stops_the_start_with_one_line():
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "OPR_PROXY_EXECUTORS": "a",
           "OPR_PROXY_ALGORITHM": "fastest"}
    result = subprocess.run([sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "--bind",
                             f"127.0.0.1:{free_port()}", "proxy.app:create_app()"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "OPR_PROXY_ALGORITHM" in lines[0] and "round-robin" in lines[0]
    assert "Traceback" not in result.stderr


def test_status_endpoint_reports_executors_and_needs_the_secret(trio, start_proxy):
    dead = f"127.0.0.1:{free_port()}"
    proxy = start_proxy([trio[0], dead])
    assert requests.get(f"{proxy.url}/v1/proxy/status", timeout=10).status_code == 401
    response = proxy.get("/v1/proxy/status")
    assert response.status_code == 503 and response.json()["status"] == "fail"
    assert [(e["name"], e["online"]) for e in response.json()["executors"]] == [(trio[0].name, True), (dead, False)]
    assert trio[0].stats()["served"] == 0  # answered by the proxy itself
    healthy = start_proxy([trio[0]]).get("/v1/proxy/status")
    assert healthy.status_code == 200 and healthy.json()["status"] == "pass"


def test_malformed_request_headers_are_400(trio, start_proxy):
    import socket

    proxy = start_proxy(trio[:1])
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: a\r\nBad Name: x\r\nAuthorization: Bearer proxy-secret\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 400")
    assert trio[0].stats()["served"] == 0


def test_connections_to_executors_are_kept_alive(trio, start_proxy):
    proxy = start_proxy(trio[:1])
    for _ in range(30):
        assert proxy.get("/x").status_code == 200
    assert trio[0].stats()["served"] == 30
    assert trio[0].stats()["connections"] == 1  # sequential requests reuse one pooled connection
