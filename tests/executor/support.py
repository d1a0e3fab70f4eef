"""Helpers of the executor tests: real executors under gunicorn, one per adapter.

Every executor of the suite runs under ``<session tmp>/executors/<name>/`` with its own
hostname (``opr-test-<name>``), storage root and work dir. A session finalizer asserts that
nothing is left behind: no runtime directory, no process of a runtime, no container.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tarfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.conftest import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS = Path(__file__).resolve().parent / "functions"
SECRET = "executor-test-secret"
NODE_IMAGE = "openruntimes/node:v3-18.0"
BUILD_COMMAND = 'tar -zxf /tmp/code.tar.gz -C /mnt/code && helpers/build.sh "{}"'


@dataclass
class Executor:
    """A running executor (gunicorn) and how to talk to it."""

    name: str
    adapter: str
    url: str
    root: Path
    storage: Path
    work_dir: Path
    hostname: str
    process: subprocess.Popen
    log_path: Path
    secret: str = SECRET

    def request(self, method: str, path: str, auth: bool = True, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if auth:
            headers.setdefault("authorization", f"Bearer {self.secret}")
        # One connection per call: an idle keep-alive connection would hold the executor's
        # graceful shutdown until its timeout.
        headers.setdefault("connection", "close")
        kwargs.setdefault("timeout", 120)
        return requests.request(method, self.url + path, headers=headers, **kwargs)

    def post(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.request("POST", path, json=json, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def source(self, language: str = "node", name: str | None = None) -> str:
        """A .tar.gz of ``functions/<language>`` in this executor's storage; its path."""
        target = self.storage / "sources" / (name or f"{language}-{uuid.uuid4().hex[:8]}.tar.gz")
        target.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(target, "w:gz") as archive:
            archive.add(FUNCTIONS / language, arcname=".")
        return str(target)

    def build(self, language: str = "node", image: str = NODE_IMAGE, entrypoint: str = "index.js",
              build_command: str = "npm install") -> str:
        """Build the test function of ``language`` through the executor; the artifact path."""
        response = self.post("/v1/runtimes", json={
            "runtimeId": f"build-{uuid.uuid4().hex[:10]}", "image": image,
            "source": self.source(language), "destination": str(self.storage / "builds"),
            "entrypoint": entrypoint, "command": BUILD_COMMAND.format(build_command),
            "remove": True, "timeout": 300,
        })
        assert response.status_code == 201, response.text
        return response.json()["path"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_executor(root: Path, name: str, adapter: str = "process", **env_overrides) -> Executor:
    """Start gunicorn with the executor app; wait until it listens."""
    base = root / name
    storage, work_dir = base / "storage", base / "work"
    storage.mkdir(parents=True, exist_ok=True)
    port = free_port()
    hostname = f"opr-test-{name}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "OPR_EXECUTOR_SECRET": SECRET,
        "OPR_EXECUTOR_ADAPTER": adapter,
        "OPR_EXECUTOR_NETWORK": "host",
        "OPR_EXECUTOR_HOSTNAME": hostname,
        "OPR_EXECUTOR_CONNECTION_STORAGE": f"local://{storage}",
        "OPR_EXECUTOR_WORK_DIR": str(work_dir),
        "OPR_EXECUTOR_BIND": f"127.0.0.1:{port}",
        "OPR_EXECUTOR_RETRY_DELAY_MS": "100",
        "OPR_EXECUTOR_USAGE_INTERVAL": "0.5",
    }
    if os.environ.get("OPR_CACHE"):
        env["OPR_CACHE"] = os.environ["OPR_CACHE"]
    env.update({key: str(value) for key, value in env_overrides.items()})
    log_path = base / "executor.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy/gunicorn/executor.conf.py"),
             "executor.app:create_app()"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    executor = Executor(name=name, adapter=adapter, url=f"http://127.0.0.1:{port}", root=base,
                        storage=storage, work_dir=work_dir, hostname=hostname, process=process,
                        log_path=log_path)
    try:
        wait_for_port(port, timeout=30, process=process)
        # The master listens before its worker has built the app: wait for an answer.
        deadline = time.monotonic() + 30
        while requests.get(executor.url + "/v1/health", timeout=30).status_code != 200:
            if time.monotonic() > deadline:
                raise TimeoutError("no healthy answer")
            time.sleep(0.05)
    except Exception:
        executor.stop()
        raise RuntimeError(f"executor did not start:\n{log_path.read_text()[-3000:]}")
    return executor


def start_for_adapter(request, root: Path, name: str, **env_overrides) -> Executor:
    """:func:`start_executor` on the adapter a parametrized fixture stands for
    (``request.param``): docker needs the engine fixture and the node image first."""
    if request.param == "docker":
        request.getfixturevalue("docker_engine")
        ensure_image("node-18.0", NODE_IMAGE)
    return start_executor(root, f"{name}-{request.param}", adapter=request.param, **env_overrides)


def leftovers(root: Path) -> list[str]:
    """Runtime directories, processes and containers of the test executors still around."""
    found = []
    for work in root.glob("*/work"):
        found += [f"directory {entry}" for entry in work.iterdir()]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if str(root).encode() in cmdline and b"gunicorn" not in cmdline and int(pid) != os.getpid():
            found.append(f"process {pid}: {cmdline[:200]!r}")
    try:
        names = subprocess.run(
            ["docker", "ps", "-a", "--filter", "label=openruntimes-executor", "--format",
             "{{.Names}} {{.Label \"openruntimes-executor\"}}"],
            capture_output=True, text=True, timeout=30).stdout.split("\n")
        found += [f"container {line}" for line in names if " opr-test-" in line]
    except (OSError, subprocess.TimeoutExpired):
        pass
    return found


def ensure_image(runtime: str, image: str) -> None:
    present = subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0
    if not present:
        subprocess.run([str(REPO / "scripts/build-image.sh"), runtime], check=True, timeout=900)


def new_id(prefix: str = "rt") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
