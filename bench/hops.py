"""Warm execution, hop by hop: straight to the runtime, through the executor, through proxy + executor.

One warm node runtime (the executor tests' hello function) serves all three paths. Latency comes
from one keep-alive client sending the three kinds of request in turn (so the machine's load falls
on each alike); throughput from wrk with a few connections on each path, one after the other.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.executor import LANGUAGES, REPO, SECRET, Executor, free_port
from bench.proxy import stop as stop_process
from bench.summary import ratio, summarize

PROXY_SECRET = "bench-proxy-secret"
RUNTIME_ID = "warm-hops"
LANGUAGE = "node"
PAYLOAD = json.dumps({"headers": {"x-action": "hello"}})
WARM_UP = 30
PATHS = ("direct", "direct_log_files", "executor", "proxy")
WRK_PATHS = ("direct", "executor", "proxy")
WRK_CONNECTIONS = 4


class Proxy:
    """The proxy under gunicorn (deploy/gunicorn/proxy.conf.py) in front of one executor."""

    def __init__(self, executor_port: int, log_path: Path):
        self.port = free_port()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO),
               "OPR_PROXY_EXECUTORS": f"127.0.0.1:{executor_port}", "OPR_PROXY_SECRET": PROXY_SECRET,
               "OPR_PROXY_EXECUTOR_SECRET": SECRET, "OPR_PROXY_HEALTHCHECK_INTERVAL": "1000"}
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy/gunicorn/proxy.conf.py"),
             "--bind", f"127.0.0.1:{self.port}", "proxy.app:create_app()"],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_forwarding(self, path: str, timeout: float = 30.0) -> None:
        """Wait until a request is forwarded to the executor (health checks have passed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the proxy exited with {self.process.returncode}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                connection.request("POST", path, body=PAYLOAD, headers=proxy_headers())
                response = connection.getresponse()
                response.read()
                connection.close()
                if response.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"the proxy forwarded nothing within {timeout} s")

    def stop(self) -> None:
        stop_process(self.process)
        self.log.close()


def executor_headers() -> dict[str, str]:
    return {"authorization": f"Bearer {SECRET}", "content-type": "application/json"}


def proxy_headers() -> dict[str, str]:
    return {"authorization": f"Bearer {PROXY_SECRET}", "content-type": "application/json",
            "x-opr-runtime-id": RUNTIME_ID}


def latencies(executor: Executor, proxy: Proxy, port: int, secret: str, iterations: int) -> dict:
    """Interleaved sequential requests on each path, ms per request (keep-alive connections)."""
    path = f"/v1/runtimes/{RUNTIME_ID}/executions"
    connections = {"direct": http.client.HTTPConnection("127.0.0.1", port, timeout=60),
                   "executor": http.client.HTTPConnection("127.0.0.1", executor.port, timeout=60),
                   "proxy": http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=60)}
    connections["direct_log_files"] = connections["direct"]
    runtime = {"x-open-runtimes-secret": secret, "x-open-runtimes-timeout": "15", "x-action": "hello"}
    samples: dict[str, list[float]] = {name: [] for name in PATHS}
    try:
        for index in range(WARM_UP + iterations):
            for name in PATHS:
                connection = connections[name]
                started = time.perf_counter()
                if name.startswith("direct"):
                    headers = dict(runtime)
                    if name == "direct_log_files":  # what the executor asks of the runtime
                        headers["x-open-runtimes-log-id"] = f"benchhops{index}"
                    connection.request("GET", "/", headers=headers)
                else:
                    connection.request("POST", path, body=PAYLOAD,
                                       headers=executor_headers() if name == "executor" else proxy_headers())
                response = connection.getresponse()
                response.read()
                elapsed = (time.perf_counter() - started) * 1000
                if response.status != 200:
                    raise RuntimeError(f"{name}: HTTP {response.status}")
                if index >= WARM_UP:
                    samples[name].append(elapsed)
            if index % 50 == 0:
                executor.clean_logs(RUNTIME_ID)
    finally:
        for connection in connections.values():
            connection.close()
        executor.clean_logs(RUNTIME_ID)
    return samples


WRK_SCRIPT = """wrk.method = "{method}"
wrk.body = {body}
{headers}
"""


def wrk_rps(url: str, method: str, headers: dict[str, str], body: str, seconds: float, tmp: Path) -> dict:
    """Requests per second (and non-2xx count) of wrk on one path."""
    script = tmp / "request.lua"
    script.write_text(WRK_SCRIPT.format(
        method=method, body=json.dumps(body) if body else "nil",
        headers="\n".join(f"wrk.headers[{json.dumps(key)}] = {json.dumps(value)}"
                          for key, value in headers.items())))
    output = subprocess.run(["wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "-s", str(script), url],
                            capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "non_2xx": int(errors.group(1)) if errors else 0}


def throughput(executor: Executor, proxy: Proxy, port: int, secret: str, seconds: float, tmp: Path) -> dict:
    path = f"/v1/runtimes/{RUNTIME_ID}/executions"
    runs = {
        "direct": (f"http://127.0.0.1:{port}/", "GET",
                   {"x-open-runtimes-secret": secret, "x-open-runtimes-timeout": "15", "x-action": "hello"}, ""),
        "executor": (f"http://127.0.0.1:{executor.port}{path}", "POST", executor_headers(), PAYLOAD),
        "proxy": (f"http://127.0.0.1:{proxy.port}{path}", "POST", proxy_headers(), PAYLOAD),
    }
    return {name: wrk_rps(*runs[name], seconds, tmp) for name in WRK_PATHS}


def run(executor: Executor, artifact: str, iterations: int, seconds: float, log=print) -> dict:
    """The warm section: latency per path and per hop, and throughput per path."""
    status, body = executor.call("POST", f"/v1/runtimes/{RUNTIME_ID}/executions",
                                 {"image": LANGUAGES[LANGUAGE][0], "source": artifact, "timeout": 60})
    if status != 200:
        raise RuntimeError(f"warm runtime did not start: {status} {body}")
    port, secret = executor.runtime_secret(RUNTIME_ID)
    tmp = Path(tempfile.mkdtemp(prefix="opr-bench-hops-"))
    proxy = Proxy(executor.port, tmp / "proxy.log")
    try:
        proxy.wait_forwarding(f"/v1/runtimes/{RUNTIME_ID}/executions")
        log(f"warm latency: {iterations} interleaved requests per path")
        samples = latencies(executor, proxy, port, secret, iterations)
        log(f"warm throughput: wrk -c{WRK_CONNECTIONS} for {seconds} s per path")
        rates = throughput(executor, proxy, port, secret, seconds, tmp)
    finally:
        proxy.stop()
        executor.call("DELETE", f"/v1/runtimes/{RUNTIME_ID}")
        for path in tmp.iterdir():
            path.unlink()
        tmp.rmdir()
    latency = {name: summarize(values) for name, values in samples.items()}
    hops = {
        "executor": {key: round(latency["executor"][key] - latency["direct_log_files"][key], 3)
                     for key in ("p50", "p99")},
        "proxy": {key: round(latency["proxy"][key] - latency["executor"][key], 3) for key in ("p50", "p99")},
    }
    return {"language": LANGUAGE, "iterations": iterations, "wrk_seconds": seconds,
            "wrk_connections": WRK_CONNECTIONS, "latency_ms": latency, "added_ms": hops,
            "latency_ratio_p50": {"executor": ratio(latency["executor"]["p50"], latency["direct"]["p50"]),
                                  "proxy": ratio(latency["proxy"]["p50"], latency["direct"]["p50"])},
            "throughput": rates,
            "throughput_ratio": {name: ratio(rates[name]["rps"], rates["direct"]["rps"]) for name in WRK_PATHS},
            "samples": samples}
