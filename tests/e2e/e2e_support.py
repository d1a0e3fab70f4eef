"""A private copy of the system as `make up` starts it: own state directory, .env and free ports.

The end-to-end tests drive it only through `make` targets and HTTP, as a user would.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "runtimes" / "runtimes.tsv"
# One runtime per language: the examples the README's curl commands build and run.
EXAMPLES = ("node-18.0", "python-3.11", "php-8.2")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def runtime_row(name: str) -> dict[str, str]:
    lines = [line for line in TABLE.read_text().splitlines() if line and not line.startswith("#")]
    header = lines[0].split("\t")
    for line in lines[1:]:
        row = dict(zip(header, line.split("\t")))
        if row["name"] == name:
            return row
    raise KeyError(name)


@dataclass
class Deployment:
    """Settings of one `make up` copy (the OPR_UP_* variables of scripts/up-settings.sh)."""

    state: Path
    mode: str = "process"
    name: str = field(default_factory=lambda: f"e2e{random.randrange(16**6):06x}")
    proxy_port: int = field(default_factory=free_port)
    executor_ports: tuple[int, int] = field(default_factory=lambda: (free_port(), free_port()))
    nginx_port: int = field(default_factory=free_port)
    # Below the kernel's ephemeral range (32768+), where free_port() and outgoing connections take
    # ports, and away from the executors' default 20000-29999.
    runtime_ports: int = field(default_factory=lambda: random.randrange(10000, 18000, 2000))

    @property
    def run_dir(self) -> Path:
        return self.state / "run"

    @property
    def env_file(self) -> Path:
        return self.state / "env"

    def environ(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            MODE=self.mode,
            OPR_UP_RUN_DIR=str(self.run_dir),
            OPR_UP_ENV_FILE=str(self.env_file),
            OPR_UP_PROXY_PORT=str(self.proxy_port),
            OPR_UP_EXECUTOR_PORTS=" ".join(map(str, self.executor_ports)),
            OPR_UP_NGINX_PORT=str(self.nginx_port),
            OPR_UP_RUNTIME_PORTS=str(self.runtime_ports),
            OPR_UP_NAME=self.name,
            OPR_UP_COMPOSE_PROJECT=self.name,
        )
        return env

    def make(self, target: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        """Run `make <target>` with this copy's settings; fail with its output when it fails."""
        result = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), target, f"MODE={self.mode}"],
                                env=self.environ(), capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"make {target} exited with {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def secrets(self) -> dict[str, str]:
        pairs = (line.split("=", 1) for line in self.env_file.read_text().splitlines()
                 if "=" in line and not line.startswith("#"))
        return {key: value for key, value in pairs}

    def pid(self, service: str) -> int | None:
        path = self.run_dir / f"{service}.pid"
        return int(path.read_text()) if path.exists() else None


class Client:
    """Builds and executes the examples through one entry point (the proxy, or nginx)."""

    def __init__(self, deployment: Deployment, port: int):
        self.deployment = deployment
        self.base = f"http://127.0.0.1:{port}"
        self.session = requests.Session()
        self.session.headers["authorization"] = f"Bearer {deployment.secrets()['OPR_PROXY_SECRET']}"

    def build(self, runtime: str, runtime_id: str | None = None, timeout: float = 300) -> dict:
        """Build the example of ``runtime`` from the storage; returns the create call's JSON."""
        row = runtime_row(runtime)
        storage = self.deployment.run_dir / "storage"
        response = self.session.post(f"{self.base}/v1/runtimes", timeout=timeout, json={
            "runtimeId": runtime_id or f"build-{runtime}",
            "image": row["image"],
            "source": str(storage / "examples" / f"{row['language']}.tar.gz"),
            "destination": str(storage / "builds"),
            "entrypoint": row["entrypoint"],
            "remove": True,
            "command": f'tar -zxf /tmp/code.tar.gz -C /mnt/code && helpers/build.sh "{row["build_command"]}"',
        })
        assert response.status_code == 201, response.text
        return response.json()

    def execute(self, runtime: str, runtime_id: str, artifact: str, timeout: float = 60) -> dict:
        row = runtime_row(runtime)
        response = self.session.post(
            f"{self.base}/v1/runtimes/{runtime_id}/executions", timeout=timeout,
            headers={"x-opr-runtime-id": runtime_id},
            json={"image": row["image"], "source": artifact, "entrypoint": row["entrypoint"],
                  "method": "POST", "body": json.dumps({"id": 7}), "timeout": 30,
                  "headers": {"content-type": "application/json"}})
        assert response.status_code == 200, response.text
        return response.json()


def executor_runtimes(deployment: Deployment, index: int) -> set[str]:
    """The runtime ids that executor ``index`` (0 or 1) holds, asked directly."""
    secret = deployment.secrets()["OPR_EXECUTOR_SECRET"]
    response = requests.get(f"http://127.0.0.1:{deployment.executor_ports[index]}/v1/runtimes",
                            headers={"authorization": f"Bearer {secret}"}, timeout=10)
    response.raise_for_status()
    return {row["runtimeId"] for row in response.json()}


def processes_naming(text: str) -> list[int]:
    """PIDs of processes whose command line contains ``text`` (what `make down` must leave none of)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition, what: str, timeout: float = 30.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def kill_group(pid: int) -> None:
    """SIGKILL a service's whole process group (the gunicorn master and its worker)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
