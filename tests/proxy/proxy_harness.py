"""Processes for the proxy's end-to-end tests: stand-in executors and a gunicorn-served proxy."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
STANDIN = Path(__file__).with_name("standin.py")
GUNICORN_CONF = ROOT / "deploy" / "gunicorn" / "proxy.conf.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def stop_process(process: subprocess.Popen | None) -> None:
    """Stop a process started in its own session, with everything it started."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


class StandIn:
    """One stand-in executor process; ``name`` is how the proxy knows it (``127.0.0.1:port``)."""

    def __init__(self, label: str):
        self.label = label
        self.port = free_port()
        self.name = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.name}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "StandIn":
        self.process = subprocess.Popen(
            [sys.executable, str(STANDIN), "--port", str(self.port), "--name", self.label],
            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process)
        return self

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def kill(self) -> None:
        """Die at once, like a crashed executor."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        self.process = None

    def control(self, **change) -> None:
        requests.post(f"{self.url}/_control", data=json.dumps(change), timeout=5).raise_for_status()

    def stats(self) -> dict:
        return requests.get(f"{self.url}/_stats", timeout=5).json()


class Proxy:
    """The proxy served by gunicorn (one gevent worker unless told) on a free port."""

    def __init__(self, executors: list[str], workers: int = 1, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "OPR_PROXY_EXECUTORS": ",".join(executors),
            "OPR_PROXY_SECRET": "proxy-secret",
            "OPR_PROXY_EXECUTOR_SECRET": "executor-secret",
            "OPR_PROXY_HEALTHCHECK_INTERVAL": "200",
            **env,
        }
        self.workers = workers
        self.process: subprocess.Popen | None = None
        self.log_path = None

    def start(self, tmp_path: Path | None = None) -> "Proxy":
        log = open(tmp_path / f"proxy-{self.port}.log", "wb") if tmp_path else subprocess.DEVNULL
        self.log_path = tmp_path / f"proxy-{self.port}.log" if tmp_path else None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "proxy.app:create_app()"],
            cwd=ROOT, env=self.environment, start_new_session=True, stdout=log, stderr=log)
        if log is not subprocess.DEVNULL:
            log.close()
        wait_for_port(self.port, self.process)
        # gunicorn listens before its worker finished booting: wait for the worker to answer.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/v1/proxy/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise TimeoutError("proxy worker did not answer its health endpoint")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def headers(self, **extra: str) -> dict:
        return {"Authorization": "Bearer proxy-secret", **extra}

    def get(self, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 30)
        headers = self.headers(**kw.pop("headers", {}))
        return requests.get(self.url + path, headers=headers, **kw)

    def request(self, method: str, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 30)
        headers = self.headers(**kw.pop("headers", {}))
        return requests.request(method, self.url + path, headers=headers, **kw)
