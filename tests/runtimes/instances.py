"""What both modes produce: a build result and a running server, behind one interface."""
from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from .targets import Target

SECRET = "test-secret-key"
# Time a runtime may take from its process start to listening (artifact extraction included).
READY_TIMEOUT = 60.0


def standard_env(target: Target, port: int | str) -> dict[str, str]:
    """The environment of spec 9.1, on a non-default port bound to 127.0.0.1."""
    return {
        "OPEN_RUNTIMES_SECRET": SECRET,
        "CUSTOM_ENV_VAR": "customValue",
        "OPEN_RUNTIMES_ENTRYPOINT": target.entrypoint,
        "OPEN_RUNTIMES_HOST": "127.0.0.1",
        "OPEN_RUNTIMES_PORT": str(port),
    }


def merge_env(base: dict[str, str], overrides: dict[str, str | None] | None) -> dict[str, str]:
    """``base`` updated with ``overrides``; an override of None removes the variable."""
    env = dict(base)
    for name, value in (overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@dataclass
class Build:
    """The outcome of ``sh helpers/build.sh "<cmd>"`` over a copy of a test function."""

    target: Target
    entrypoint: str
    code_dir: Path          # host dir: the source copy, and code.tar.gz after a good build
    returncode: int
    stdout: str
    stderr: str

    @property
    def artifact(self) -> Path:
        return self.code_dir / "code.tar.gz"

    def members(self) -> list[str]:
        """Names in the artifact, normalised without the leading ``./``."""
        with tarfile.open(self.artifact, "r:gz") as tar:
            return [name[2:] if name.startswith("./") else name for name in tar.getnames()]

    def read_member(self, name: str) -> bytes:
        with tarfile.open(self.artifact, "r:gz") as tar:
            for member in tar.getmembers():
                if member.name in (name, "./" + name):
                    return tar.extractfile(member).read()
        raise KeyError(name)

    def describe(self) -> str:
        return (f"build of {self.entrypoint} exited {self.returncode}\n"
                f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}")


class Server(ABC):
    """A started runtime (local sandboxed process or container)."""

    port: int
    logs_dir: Path | None
    started_at: float       # time.monotonic() just before the process or container was started
    # Host path of the function dir (process mode); None in docker mode, where it is
    # docker_mode.FUNCTION_DIR inside the container.
    function_dir: Path | None = None

    @abstractmethod
    def pids(self) -> list[int]:
        """Host PIDs of the runtime's processes (the server and any workers)."""

    @abstractmethod
    def starting_at(self) -> float | None:
        """time.monotonic() of the ``Starting ...`` line (the server process starts right after)."""

    @abstractmethod
    def stdout(self) -> str:
        """What the helpers and the server printed on stdout so far."""

    @abstractmethod
    def stderr(self) -> str:
        ...

    @abstractmethod
    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Block until the port accepts connections; raise with the output if it exits."""

    @abstractmethod
    def exit_after_start(self, timeout: float = 30.0) -> tuple[int, float]:
        """Wait for the runtime to exit: (exit status, seconds from ``Starting ...`` to exit)."""

    @abstractmethod
    def terminate(self, timeout: float = 10.0) -> float:
        """Send SIGTERM to the server process itself; seconds until it has exited."""

    @abstractmethod
    def leftovers(self) -> list[str]:
        """Processes started by this runtime that still run (after it has exited)."""

    @abstractmethod
    def server_dir_changes(self) -> list[str]:
        """Paths written into the server dir since start (bytecode caches and function dir aside)."""

    @abstractmethod
    def stop(self) -> None:
        """Kill the runtime and everything it started. Idempotent."""

    def describe(self) -> str:
        return f"--- runtime stdout\n{self.stdout()[-4000:]}\n--- runtime stderr\n{self.stderr()[-4000:]}"


class Workspace:
    """The session's temp dirs, removed at the end even when containers wrote into them as root."""

    PREFIX = "opr-runtimes-"

    def __init__(self) -> None:
        # The owner's PID in the name lets a later session remove what a killed one left.
        self.root = Path(tempfile.mkdtemp(prefix=f"{self.PREFIX}{os.getpid()}-"))
        self._count = 0
        self._lock = threading.Lock()

    def new_dir(self, label: str) -> Path:
        with self._lock:
            self._count += 1
            path = self.root / f"{self._count:03d}-{label}"
        path.mkdir()
        return path

    @classmethod
    def remove_stale(cls) -> None:
        """Remove the workspaces of harness sessions whose process no longer runs."""
        for path in Path(tempfile.gettempdir()).glob(f"{cls.PREFIX}*-*"):
            owner = path.name[len(cls.PREFIX):].split("-", 1)[0]
            if owner.isdigit() and not pid_alive(int(owner)):
                shutil.rmtree(path, ignore_errors=True)

    def remove(self, cleaner_image: str | None = None) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        if self.root.exists() and cleaner_image:
            # Files a container wrote as root, when the harness does not run as root.
            subprocess.run(
                ["docker", "run", "--rm", "-v", f"{self.root}:/clean", cleaner_image,
                 "sh", "-c", "rm -rf /clean/* /clean/.[!.]*"],
                capture_output=True, timeout=120,
            )
            shutil.rmtree(self.root, ignore_errors=True)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class LineRecorder:
    """Reads a stream in a thread, keeping each line with the monotonic time it arrived."""

    lines: list[tuple[float, str]] = field(default_factory=list)

    def follow(self, stream) -> threading.Thread:
        def pump() -> None:
            for raw in iter(stream.readline, b""):
                self.lines.append((time.monotonic(), raw.decode("utf-8", "replace")))
            stream.close()

        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        return thread

    def text(self) -> str:
        return "".join(line for _, line in list(self.lines))

    def time_of(self, needle: str) -> float | None:
        for stamp, line in list(self.lines):
            if needle in line:
                return stamp
        return None
