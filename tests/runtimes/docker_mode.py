"""Docker mode: the runtime image, a build container, then the server as a detached container
with host networking, its own port, the artifact at /mnt/code/code.tar.gz and logs at /mnt/logs."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

from executor import sandbox

from .instances import READY_TIMEOUT, Build, Server, Workspace, merge_env, pid_alive, standard_env
from .process_mode import copy_source, process_name
from .targets import REPO_ROOT, Target

LABEL = "opr-runtimes-harness"
OWNER_LABEL = "opr-runtimes-harness.pid"
SERVER_DIR = "/usr/local/server"
FUNCTION_DIR = "/usr/local/server/src/function"


def docker(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])} ... failed ({done.returncode}): "
                           f"{done.stderr.strip()}")
    return done


def parse_time(stamp: str) -> float:
    """A Docker RFC 3339 timestamp (nanoseconds, ``Z``) as a Unix time."""
    stamp = stamp.strip().replace("Z", "+00:00")
    if "." in stamp:
        whole, rest = stamp.split(".", 1)
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits):]
        stamp = f"{whole}.{digits[:6].ljust(6, '0')}{zone}"
    return datetime.fromisoformat(stamp).astimezone(timezone.utc).timestamp()


class DockerLauncher:
    mode = "docker"

    def __init__(self, workspace: Workspace, session: str) -> None:
        self.workspace = workspace
        self.session = session
        self._images: set[str] = set()
        self._count = 0

    def container_name(self, kind: str) -> str:
        self._count += 1
        return f"opr-rt-{self.session}-{kind}-{self._count}"

    def labels(self) -> list[str]:
        return ["--label", f"{LABEL}={self.session}", "--label", f"{OWNER_LABEL}={os.getpid()}"]

    def any_image(self) -> str | None:
        """An image this session used (to remove root-owned files with), if any."""
        return next(iter(self._images), None)

    def ensure_image(self, target: Target) -> str:
        """The runtime image, built by scripts/build-image.sh when it is missing."""
        image = target.spec.image
        if image in self._images:
            return image
        if docker("image", "inspect", image, check=False).returncode != 0:
            done = subprocess.run([str(REPO_ROOT / "scripts" / "build-image.sh"), target.spec.name],
                                  capture_output=True, text=True, timeout=1800)
            if done.returncode != 0:
                raise RuntimeError(f"scripts/build-image.sh {target.spec.name} failed:\n"
                                   f"{done.stdout}\n{done.stderr}")
        self._images.add(image)
        return image

    def build(self, target: Target, entrypoint: str, command: str, source: Path | None = None) -> Build:
        """Build ``source`` (default: the target's test function) inside the image."""
        image = self.ensure_image(target)
        code_dir = self.workspace.new_dir(f"build-{target.id(False)}-{entrypoint}") / "code"
        copy_source(source or target.source_dir, code_dir)
        ca = sandbox.CA_BUNDLE
        done = subprocess.run(
            ["docker", "run", "--rm", "--name", self.container_name("build"), *self.labels(),
             "--network", "host", "-v", f"{code_dir}:/mnt/code", "-v", f"{ca}:{ca}:ro",
             "-e", f"PIP_CERT={ca}", "-e", f"NODE_EXTRA_CA_CERTS={ca}",
             "-e", f"OPEN_RUNTIMES_ENTRYPOINT={entrypoint}",
             image, "sh", "helpers/build.sh", command],
            capture_output=True, timeout=900,
        )
        return Build(target, entrypoint, code_dir, done.returncode,
                     done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))

    def shared_server_dir(self, target: Target) -> None:
        """Containers of one image share its server dir by construction (compared with docker diff)."""
        return None

    def start(self, target: Target, build: Build, *, port: int | str, env: dict | None = None,
              logs_dir: bool = True, server_dir: Path | None = None) -> "ContainerServer":
        image = self.ensure_image(target)
        name = self.container_name("run")
        logs = None
        # Without an artifact (a runtime started empty), `-v` would make a directory in its place.
        mounts = ["-v", f"{build.artifact}:/mnt/code/code.tar.gz:ro"] if build.artifact.exists() else []
        if logs_dir:
            logs = self.workspace.new_dir(f"logs-{target.id(False)}")
            mounts += ["-v", f"{logs}:/mnt/logs"]
        variables = []
        for key, value in merge_env(standard_env(target, port), env).items():
            variables += ["-e", f"{key}={value}"]
        started_at = time.monotonic()
        docker("run", "-d", "--name", name, *self.labels(), "--network", "host", *variables, *mounts,
               image, "sh", "helpers/start.sh", target.spec.start_command)
        try:
            port_number = int(port)
        except ValueError:
            port_number = None
        return ContainerServer(name, port_number, logs, started_at)


class ContainerServer(Server):
    def __init__(self, name: str, port: int | None, logs_dir: Path | None, started_at: float) -> None:
        self.name = name
        self.started_at = started_at
        self.port = port
        self.logs_dir = logs_dir
        self._final_logs: tuple[str, str] | None = None
        self._seen: list[tuple[int, str]] = []

    def _logs(self) -> tuple[str, str]:
        if self._final_logs is not None:
            return self._final_logs
        done = docker("logs", self.name, check=False)
        return done.stdout, done.stderr

    def stdout(self) -> str:
        return self._logs()[0]

    def stderr(self) -> str:
        return self._logs()[1]

    def state(self) -> dict:
        done = docker("inspect", "-f",
                      "{{.State.Running}}|{{.State.ExitCode}}|{{.State.FinishedAt}}", self.name)
        running, code, finished = done.stdout.strip().split("|")
        return {"running": running == "true", "exit_code": int(code), "finished_at": finished}

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        next_check = 0.0
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                pass
            if time.monotonic() >= next_check:
                if not self.state()["running"]:
                    raise RuntimeError(f"container {self.name} exited before listening on "
                                       f"{self.port}\n{self.describe()}")
                next_check = time.monotonic() + 0.5
            time.sleep(0.02)
        raise TimeoutError(f"container {self.name} does not listen on {self.port} after {timeout} s\n"
                           f"{self.describe()}")

    def _wait_exit(self, timeout: float) -> dict:
        docker("wait", self.name, timeout=timeout)
        return self.state()

    def exit_after_start(self, timeout: float = 30.0) -> tuple[int, float]:
        state = self._wait_exit(timeout)
        stamped = docker("logs", "-t", self.name).stdout.splitlines()
        started = next((line.split(" ", 1)[0] for line in stamped if "Starting ..." in line), None)
        if started is None:
            raise AssertionError(f"the start never printed `Starting ...`\n{self.describe()}")
        return state["exit_code"], parse_time(state["finished_at"]) - parse_time(started)

    def terminate(self, timeout: float = 10.0) -> float:
        self._seen = self._processes()
        sent = time.time()
        docker("kill", "--signal", "TERM", self.name)
        state = self._wait_exit(timeout)
        return parse_time(state["finished_at"]) - sent

    def _processes(self) -> list[tuple[int, str]]:
        """(host PID, command name) of the container's processes."""
        listed = docker("top", self.name, "-eo", "pid,comm").stdout.splitlines()[1:]
        return [(int(pid), name.strip()) for pid, _, name in (line.strip().partition(" ") for line in listed)]

    def starting_at(self) -> float | None:
        for line in docker("logs", "-t", self.name).stdout.splitlines():
            if "Starting ..." in line:
                return time.monotonic() - (time.time() - parse_time(line.split(" ", 1)[0]))
        return None

    def pids(self) -> list[int]:
        return [pid for pid, _ in self._processes()]

    def leftovers(self) -> list[str]:
        """The container's processes (seen before SIGTERM) that still run on the host."""
        return [f"{pid} {name}" for pid, name in self._seen if process_name(pid) == name]

    def server_dir_changes(self) -> list[str]:
        changes = []
        for line in docker("diff", self.name).stdout.splitlines():
            kind, path = line.split(" ", 1)
            if not path.startswith(SERVER_DIR + "/") and path != SERVER_DIR:
                continue
            if path.startswith(FUNCTION_DIR) or "__pycache__" in path:
                continue
            if kind == "C" and FUNCTION_DIR.startswith(path + "/"):
                continue  # a parent of the function dir, changed by the extraction
            changes.append(line)
        return changes

    def stop(self) -> None:
        if self._final_logs is None:
            self._final_logs = self._logs()
            docker("rm", "-f", self.name, check=False)


def remove_stale() -> None:
    """Remove containers of harness sessions whose pytest process no longer runs (killed runs)."""
    if shutil.which("docker") is None:
        return
    try:
        listed = docker("ps", "-a", "--filter", f"label={LABEL}",
                        "--format", f'{{{{.ID}}}} {{{{.Label "{OWNER_LABEL}"}}}}', timeout=15, check=False)
    except subprocess.TimeoutExpired:
        return
    stale = [cid for cid, _, owner in (line.partition(" ") for line in listed.stdout.splitlines())
             if owner.isdigit() and not pid_alive(int(owner))]
    if stale:
        docker("rm", "-f", *stale, check=False)


def remove_leftovers(session: str) -> None:
    """Remove every container this session labelled (finalizer of the session)."""
    listed = docker("ps", "-aq", "--filter", f"label={LABEL}={session}", check=False)
    ids = listed.stdout.split()
    if ids:
        docker("rm", "-f", *ids, check=False)
