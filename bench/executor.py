"""Executor benchmark: warm execution overhead and cold-start latency.

    .venv/bin/python -m bench.executor [--quick] [--json PATH] [--adapters process,docker]

* warm: p50/p99 of an execution through the executor vs the same request sent straight to
  the runtime (same keep-alive client), and the difference (target: added p50 <= 1 ms);
* cold: p50/p99 of a cold-start execution (new runtime each time) of a hello function per
  language (target for the process adapter: p50 <= 150 ms for php and python).

Targets are reported, not asserted. Each executor runs under gunicorn (one gevent worker) in a
temporary directory that is deleted at the end, with every runtime.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from contextlib import contextmanager
from typing import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FUNCTIONS = REPO / "tests/executor/functions"
SECRET = "bench-secret"
LANGUAGES = {  # language -> (runtime image, entrypoint, build command)
    "node": ("openruntimes/node:v3-18.0", "index.js", "npm install"),
    "python": ("openruntimes/python:v3-3.11", "main.py", "pip install --no-cache-dir -r requirements.txt"),
    "php": ("openruntimes/php:v3-8.2", "index.php", "true"),
}
BUILD = 'tar -zxf /tmp/code.tar.gz -C /mnt/code && helpers/build.sh "{}"'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Executor:
    """An executor under gunicorn, talked to over one keep-alive connection."""

    def __init__(self, root: Path, adapter: str, extra_env: dict[str, str] | None = None):
        self.root, self.adapter = root, adapter
        self.storage, self.work = root / "storage", root / "work"
        self.storage.mkdir(parents=True)
        self.port = free_port()
        self.hostname = f"bench-{adapter}-{uuid.uuid4().hex[:6]}"
        env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"),
               "OPR_EXECUTOR_SECRET": SECRET, "OPR_EXECUTOR_ADAPTER": adapter,
               "OPR_EXECUTOR_NETWORK": "host", "OPR_EXECUTOR_HOSTNAME": self.hostname,
               "OPR_EXECUTOR_CONNECTION_STORAGE": f"local://{self.storage}",
               "OPR_EXECUTOR_WORK_DIR": str(self.work), "OPR_EXECUTOR_BIND": f"127.0.0.1:{self.port}",
               "OPR_EXECUTOR_LOG_LEVEL": "warning", **(extra_env or {})}
        if os.access("/dev/shm", os.W_OK) and "OPR_EXECUTOR_LOGS_DIR" not in env:
            # As deployed (docker-compose.yml sets it for the docker adapter): log files on a tmpfs.
            env["OPR_EXECUTOR_LOGS_DIR"] = "/dev/shm/opr-executor-logs"
        self.log = open(root / "executor.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy/gunicorn/executor.conf.py"),
             "executor.app:create_app()"], cwd=REPO, env=env, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.call("GET", "/v1/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("executor did not start: " + (root / "executor.log").read_text()[-2000:])
            time.sleep(0.1)

    def call(self, method: str, path: str, payload: dict | None = None, conn=None):
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            body = json.dumps(payload).encode() if payload is not None else None
            conn.request(method, path, body=body, headers={
                "authorization": f"Bearer {SECRET}", "content-type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            return response.status, (json.loads(data) if data else None)
        finally:
            if own:
                conn.close()

    def build(self, language: str) -> str:
        image, entrypoint, command = LANGUAGES[language]
        source = self.storage / f"{language}.tar.gz"
        with tarfile.open(source, "w:gz") as archive:
            archive.add(FUNCTIONS / language, arcname=".")
        status, body = self.call("POST", "/v1/runtimes", {
            "runtimeId": f"build-{language}", "image": image, "source": str(source),
            "destination": str(self.storage / "builds"), "entrypoint": entrypoint,
            "command": BUILD.format(command), "remove": True, "timeout": 600})
        if status != 201:
            raise RuntimeError(f"{language} build failed: {body}")
        return body["path"]

    def runtime_secret(self, runtime_id: str) -> tuple[int, str]:
        """The port and secret of a runtime, read from outside (bench only; root needed)."""
        name = f"{self.hostname}-{runtime_id}"
        if self.adapter == "process":
            meta = json.loads((self.work / name / "runtime.json").read_text())
            environ = Path(f"/proc/{meta['pgids'][0]}/environ").read_bytes().split(b"\0")
        else:
            inspect = json.loads(subprocess.run(["docker", "inspect", name], capture_output=True,
                                                text=True, check=True).stdout)[0]
            environ = [item.encode() for item in inspect["Config"]["Env"]]
        values = dict(item.decode().split("=", 1) for item in environ if b"=" in item)
        return int(values["OPEN_RUNTIMES_PORT"]), values["OPEN_RUNTIMES_SECRET"]

    def clean_logs(self, runtime_id: str) -> None:
        """Delete the log files the direct calls left (the executor deletes its own)."""
        logs = self.work / f"{self.hostname}-{runtime_id}" / "logs"
        for path in logs.glob("bench*") if logs.is_dir() else ():
            path.unlink(missing_ok=True)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"p50": round(statistics.median(ordered), 3), "p99": round(p99, 3), "n": len(ordered)}


def bench_warm(executor: Executor, artifact: str, iterations: int) -> dict:
    runtime_id = "warm"
    image = LANGUAGES["node"][0]
    status, body = executor.call("POST", f"/v1/runtimes/{runtime_id}/executions",
                                 {"image": image, "source": artifact, "timeout": 60})
    assert status == 200, body
    port, secret = executor.runtime_secret(runtime_id)
    via = http.client.HTTPConnection("127.0.0.1", executor.port, timeout=60)
    direct = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    payload = json.dumps({"headers": {"x-action": "hello"}}).encode()
    executor_headers = {"authorization": f"Bearer {SECRET}", "content-type": "application/json"}
    runtime_headers = {"x-open-runtimes-secret": secret, "x-open-runtimes-timeout": "15",
                       "x-action": "hello"}
    through, straight, straight_files = [], [], []
    for index in range(iterations * 3 + 60):
        measure = index >= 60  # warm-up first
        kind = index % 3
        started = time.perf_counter()
        if kind == 0:
            via.request("POST", f"/v1/runtimes/{runtime_id}/executions", body=payload, headers=executor_headers)
            via.getresponse().read()
        else:
            headers = dict(runtime_headers)
            if kind == 2:
                headers["x-open-runtimes-log-id"] = f"bench{index}"
            direct.request("GET", "/", headers=headers)
            direct.getresponse().read()
        elapsed = (time.perf_counter() - started) * 1000
        if measure:
            (through, straight, straight_files)[kind].append(elapsed)
    executor.clean_logs(runtime_id)
    via.close()
    direct.close()
    executor.call("DELETE", f"/v1/runtimes/{runtime_id}")
    result = {"through_executor_ms": percentiles(through), "direct_ms": percentiles(straight),
              "direct_with_log_files_ms": percentiles(straight_files)}
    # The executor asks for log files (full logs); the runtime then writes two files per call.
    # "added" compares like with like; "added_vs_plain" also counts that file work.
    for name, base in (("added_ms", "direct_with_log_files_ms"), ("added_vs_plain_ms", "direct_ms")):
        result[name] = {key: round(result["through_executor_ms"][key] - result[base][key], 3)
                        for key in ("p50", "p99")}
    return result


def bench_cold(executor: Executor, language: str, artifact: str, iterations: int) -> dict:
    image = LANGUAGES[language][0]
    totals, ready = [], []
    for index in range(iterations):
        runtime_id = f"cold-{language}-{index}"
        started = time.perf_counter()
        status, body = executor.call("POST", f"/v1/runtimes/{runtime_id}/executions",
                                     {"image": image, "source": artifact, "timeout": 60})
        elapsed = (time.perf_counter() - started) * 1000
        executor.call("DELETE", f"/v1/runtimes/{runtime_id}")
        if status != 200 or body["statusCode"] != 200:
            raise RuntimeError(f"{language} cold start failed: {body}")
        totals.append(elapsed)
        ready.append(body["timings"]["create"] + body["timings"]["ready"])
    return {"request_ms": percentiles(totals), "create_plus_ready_ms": percentiles(ready)}


def languages_available() -> list[str]:
    return [lang for lang in LANGUAGES
            if (REPO / "runtimes" / lang / "helpers/start.sh").exists() and (FUNCTIONS / lang).exists()]


def docker_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextmanager
def running_executor(adapter: str, extra_env: dict[str, str] | None = None, prefix: str = "opr-bench"):
    """An :class:`Executor` in a fresh temporary root; stopped and its root removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix=f"{prefix}-{adapter}-"))
    executor = None
    try:
        executor = Executor(root, adapter, extra_env)
        yield executor
    finally:
        if executor is not None:
            executor.stop()
        shutil.rmtree(root, ignore_errors=True)


def run(adapter: str, quick: bool) -> dict:
    results: dict = {"adapter": adapter, "cold": {}, "errors": {}}
    with running_executor(adapter) as executor:
        artifacts = {}
        for language in languages_available():
            try:
                artifacts[language] = executor.build(language)
            except RuntimeError as error:
                results["errors"][language] = str(error)[:500]
        if "node" in artifacts:
            results["warm"] = bench_warm(executor, artifacts["node"], 200 if quick else 2000)
        for language, artifact in artifacts.items():
            try:
                results["cold"][language] = bench_cold(executor, language, artifact,
                                                       5 if quick else (20 if adapter == "process" else 10))
            except RuntimeError as error:
                results["errors"][language] = str(error)[:500]
    return results


def adapter_main(argv: list[str] | None, description: str, quick_help: str,
                 run_adapter: Callable[[str, bool], dict], show: Callable[[str, dict], None],
                 report: dict) -> int:
    """The command line of a per-adapter benchmark: ``--quick``, ``--json``, ``--adapters``;
    ``run_adapter(adapter, quick)`` per adapter (docker skipped when no engine answers),
    ``show(adapter, result)`` prints it, the results go into ``report["results"]``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--adapters", default="process,docker")
    args = parser.parse_args(argv)
    report = {"quick": args.quick, **report, "results": []}
    for adapter in args.adapters.split(","):
        if adapter == "docker" and not docker_answers():
            print("docker: no engine answers, skipped")
            continue
        result = run_adapter(adapter, args.quick)
        report["results"].append(result)
        show(adapter, result)
        for language, error in result["errors"].items():
            print(f"{adapter} {language}: ERROR {error}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


def show(adapter: str, result: dict) -> None:
    warm = result.get("warm")
    if warm:
        print(f"{adapter} warm: through executor p50 {warm['through_executor_ms']['p50']} ms "
              f"p99 {warm['through_executor_ms']['p99']} ms; direct p50 {warm['direct_ms']['p50']} ms "
              f"p99 {warm['direct_ms']['p99']} ms; direct with log files p50 "
              f"{warm['direct_with_log_files_ms']['p50']} ms; added p50 {warm['added_ms']['p50']} ms "
              f"p99 {warm['added_ms']['p99']} ms (target p50 <= 1 ms); added vs plain p50 "
              f"{warm['added_vs_plain_ms']['p50']} ms")
    for language, cold in result["cold"].items():
        print(f"{adapter} cold {language}: request p50 {cold['request_ms']['p50']} ms "
              f"p99 {cold['request_ms']['p99']} ms (create+ready p50 {cold['create_plus_ready_ms']['p50']} ms)")


def main(argv: list[str] | None = None) -> int:
    return adapter_main(argv, __doc__.split("\n")[0], "fewer iterations", run, show,
                        {"cpus": os.cpu_count()})


if __name__ == "__main__":
    sys.exit(main())
