"""The ``process`` adapter: each runtime is a process tree in a bubblewrap sandbox.

Layout (the same as a container's, so the same commands work): a per-runtime host directory
``<work_dir>/<name>/`` whose subdirectories are bound writable at ``/tmp``, ``/mnt/code``,
``/mnt/logs``, ``/usr/local/build`` and ``/usr/local/server/src/function``; the project's
``runtimes/<lang>`` bound read-only at ``/usr/local/server`` (the working directory); the
read-only Debian root of the runtime's suite as ``/``; the host network (each runtime gets its
own port on 127.0.0.1); a clean environment.

Limits: memory through ``RLIMIT_AS`` set by ``prlimit`` on the sandbox (address space, with
:data:`ADDRESS_SPACE_HEADROOM_MB` on top because interpreters reserve far more address space
than they use: Node 20 needs about 700 MiB just to start). CPU is not enforced.

Without bubblewrap or without the Debian root, runtimes run as plain child processes with the
runtimes' path variables, and the sandbox paths inside commands are rewritten to the host
directories (best effort, no isolation; a warning is logged).
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from executor import catalog, sandbox
from executor.adapters import logfiles
from executor.adapters.base import Adapter, CommandTimeout, Exit, Instance, Launch, OutputSink
from executor.errors import invalid

log = logging.getLogger(__name__)

ADDRESS_SPACE_HEADROOM_MB = 1024
OUTPUT_TAIL_BYTES = 4000
CPU_SNAPSHOT_SECONDS = 1.0
META = "runtime.json"
# Host subdirectory -> path inside the sandbox.
LAYOUT = {
    "tmp": "/tmp",
    "code": "/mnt/code",
    "logs": "/mnt/logs",
    "build": "/usr/local/build",
    "function": "/usr/local/server/src/function",
}
SERVER_PATH = "/usr/local/server"


@dataclass
class _Runtime:
    """The adapter's handle on one runtime: its dirs, sandbox and processes."""

    base: Path
    spec: catalog.RuntimeSpec
    env: dict[str, str]
    memory_mb: int
    server: subprocess.Popen | None = None
    commands: set = field(default_factory=set)   # Popen of commands still running
    removed: bool = False


class ProcessAdapter(Adapter):
    """Runs runtimes as local sandboxed processes."""

    name = "process"

    def __init__(self, *, hostname: str, work_dir: Path, runtimes_dir: Path | None = None,
                 rootfs_dir: Path | None = None, port_range: tuple[int, int] = (20000, 29999),
                 logs_root: Path | None = None):
        self.hostname = hostname
        self.work_dir = Path(work_dir)
        self.logs_root = Path(logs_root) / hostname if logs_root else None  # see logfiles.py
        self.runtimes_dir = Path(runtimes_dir) if runtimes_dir else catalog.RUNTIMES_DIR
        self.rootfs_dir = rootfs_dir
        self.port_range = port_range
        self.bwrap = sandbox.bwrap_path()
        self.prlimit = shutil.which("prlimit")
        self._ports: set[int] = set()
        self._next_port = port_range[0]
        self._lock = threading.Lock()
        self._cpu_snapshot: tuple[float, dict[int, float]] = (0.0, {})
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if not self.bwrap:
            log.warning("bubblewrap (bwrap) not found: runtimes run as plain processes, NOT isolated")
        else:
            for suite in sorted({spec.suite for spec in catalog.load().values()}):
                if sandbox.rootfs_for(suite, rootfs_dir) is None:
                    log.warning("no Debian root for %s (scripts/debian.sh rootfs %s): its runtimes "
                                "run as plain processes, NOT isolated", suite, suite)

    # -- Adapter interface -------------------------------------------------------------------

    def start(self, launch: Launch) -> Instance:
        spec = catalog.by_image(launch.image)
        if spec is None:
            raise invalid(f"Invalid image: {launch.image} is not a known runtime image")
        base = self.work_dir / launch.name
        if base.exists():
            self._remove_dirs(base)
        for sub in LAYOUT:
            if sub != "logs":
                (base / sub).mkdir(parents=True, exist_ok=True)
        logs_dir = logfiles.make(base, self.logs_root)
        port = self._allocate_port()
        meta = {"executor": self.hostname, "labels": dict(launch.labels), "name": launch.name,
                "runtimeId": launch.runtime_id, "port": port, "pgids": []}
        self._write_meta(base, meta)
        if launch.source is not None:
            shutil.copyfile(launch.source, base / "tmp" / "code.tar.gz")
        env = dict(launch.env)
        env.update({"OPEN_RUNTIMES_PORT": str(port), "OPEN_RUNTIMES_HOST": "127.0.0.1"})
        runtime = _Runtime(base=base, spec=spec, env=env, memory_mb=launch.memory_mb)
        instance = Instance(name=launch.name, host="127.0.0.1", port=port, code_dir=base / "code",
                            logs_dir=logs_dir, function_dir=base / "function", handle=runtime)
        if launch.command is not None:
            output = open(base / "output.log", "ab")
            try:
                runtime.server = self._spawn(runtime, launch.command, "bash", output)
            except Exception:
                self._release_port(port)
                self._remove_dirs(base)
                raise
            finally:
                output.close()
            self._record_pgid(base, runtime.server.pid)
        return instance

    def run(self, instance: Instance, command: str, timeout: float, sink: OutputSink,
            shell: str = "bash") -> int:
        runtime: _Runtime = instance.handle
        process = self._spawn(runtime, command, shell, subprocess.PIPE)
        runtime.commands.add(process)
        self._record_pgid(runtime.base, process.pid)
        timed_out = threading.Event()

        def expire() -> None:
            timed_out.set()
            self._kill_group(process)

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        timer.start()
        try:
            read = getattr(process.stdout, "read1", process.stdout.read)
            while chunk := read(65536):
                sink(chunk)
            code = process.wait()
        finally:
            timer.cancel()
            process.stdout.close()
            runtime.commands.discard(process)
            self._kill_group(process)  # children it left behind go with it
        if timed_out.is_set():
            raise CommandTimeout(f"command timed out after {timeout} s")
        return code

    def exited(self, instance: Instance) -> Exit | None:
        runtime: _Runtime = instance.handle
        if runtime.server is None:
            return Exit(None, "the runtime was removed") if runtime.removed else None
        code = runtime.server.poll()
        if code is None:
            return None
        return Exit(code, self._output_tail(runtime.base))

    def remove(self, instance: Instance) -> None:
        runtime: _Runtime = instance.handle
        runtime.removed = True
        for process in [runtime.server, *runtime.commands]:
            if process is not None:
                self._kill_group(process)
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    log.error("runtime %s: process %s did not exit after SIGKILL", instance.name, process.pid)
        self._remove_dirs(runtime.base)
        self._release_port(instance.port)

    def remove_orphans(self, hostname: str) -> int:
        return self.prune(hostname, set)

    def prune(self, hostname: str, in_use: Callable[[], set[str]]) -> int:
        """Remove directories (and recorded process groups) of ``hostname`` not in ``in_use()``."""
        owned = []
        for base in self.work_dir.iterdir() if self.work_dir.exists() else ():
            meta = self._read_meta(base)
            if meta is not None and meta.get("executor") == hostname:
                owned.append((base, meta))
        logs = logfiles.orphans(self.logs_root) if hostname == self.hostname else []
        keep = in_use()
        removed = 0
        for base, meta in owned:
            if base.name in keep:
                continue
            for pgid in meta.get("pgids", []):
                _kill_recorded_group(pgid, base)
            self._remove_dirs(base)
            removed += 1
        logfiles.prune(logs, self.work_dir, keep)
        return removed

    def close(self) -> None:
        """At shutdown (after every runtime was removed): drop this executor's logs folder."""
        logfiles.close(self.logs_root)

    @staticmethod
    def _remove_dirs(base: Path) -> None:
        logfiles.remove(base)
        shutil.rmtree(base, ignore_errors=True)

    def cpu_seconds(self, instance: Instance) -> float | None:
        runtime: _Runtime = instance.handle
        groups = [p.pid for p in [runtime.server, *runtime.commands] if p is not None]
        if not groups:
            return None
        # One scan of /proc serves every runtime of a sampling round.
        taken, per_group = self._cpu_snapshot
        if time.monotonic() - taken > CPU_SNAPSHOT_SECONDS:
            per_group = _cpu_seconds_by_group()
            self._cpu_snapshot = (time.monotonic(), per_group)
        return sum(per_group.get(pgid, 0.0) for pgid in groups)

    # -- helpers -----------------------------------------------------------------------------

    @property
    def sandboxed(self) -> bool:
        return self.bwrap is not None

    def _spawn(self, runtime: _Runtime, command: str, shell: str, stdout) -> subprocess.Popen:
        """Start ``<shell> -c command`` in the runtime's sandbox, in a new process group."""
        root = sandbox.rootfs_for(runtime.spec.suite, self.rootfs_dir) if self.bwrap else None
        server_dir = runtime.spec.server_dir(self.runtimes_dir)
        if root is not None:
            mounts = [sandbox.Mount(str(server_dir), SERVER_PATH)]
            mounts += [sandbox.Mount(str(runtime.base / sub), target, writable=True)
                       for sub, target in LAYOUT.items()]
            argv = sandbox.argv(root, mounts, [shell, "-c", command], cwd=SERVER_PATH, bwrap=self.bwrap)
            env = sandbox.clean_env(runtime.env)
            cwd = None
        else:
            argv = [shell, "-c", _host_paths(command, runtime.base, server_dir)]
            env = sandbox.clean_env({**runtime.env, **_path_variables(runtime.base, server_dir)})
            env["PATH"] = os.environ.get("PATH", env["PATH"])
            cwd = str(server_dir)
        if self.prlimit:
            limit = (runtime.memory_mb + ADDRESS_SPACE_HEADROOM_MB) * 1024 * 1024
            argv = [self.prlimit, f"--as={limit}:{limit}", "--", *argv]
        return subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout,
                                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)

    @staticmethod
    def _kill_group(process: subprocess.Popen) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _allocate_port(self) -> int:
        low, high = self.port_range
        with self._lock:
            for _ in range(high - low + 1):
                port = self._next_port
                self._next_port = low if port >= high else port + 1
                if port not in self._ports and _port_free(port):
                    self._ports.add(port)
                    return port
        raise RuntimeError(f"no free port left in {low}-{high}")

    def _release_port(self, port: int) -> None:
        with self._lock:
            self._ports.discard(port)

    @staticmethod
    def _write_meta(base: Path, meta: dict) -> None:
        partial = base / f".{META}.partial"
        partial.write_text(json.dumps(meta))
        os.replace(partial, base / META)

    def _record_pgid(self, base: Path, pgid: int) -> None:
        with self._lock:
            meta = self._read_meta(base)
            if meta is not None:
                meta["pgids"].append(pgid)
                self._write_meta(base, meta)

    @staticmethod
    def _read_meta(base: Path) -> dict | None:
        try:
            return json.loads((base / META).read_text())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _output_tail(base: Path) -> str:
        try:
            with open(base / "output.log", "rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - OUTPUT_TAIL_BYTES))
                data = handle.read()
        except OSError:
            return ""
        lines = data.decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-20:])


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _kill_recorded_group(pgid: int, base: Path) -> None:
    """Kill a process group recorded in ``base`` if it still is ours (pids get reused)."""
    try:
        environ = Path(f"/proc/{pgid}/cmdline").read_bytes()
    except OSError:
        return
    if str(base).encode() not in environ:
        return  # the pid now belongs to something else
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _cpu_seconds_by_group() -> dict[int, float]:
    """CPU seconds (user + system) of every process group, from ``/proc/<pid>/stat``."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        # after "(comm)": state ppid pgrp ... utime(12) stime(13)
        pgid = int(fields[2])
        totals[pgid] = totals.get(pgid, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return totals


def _path_variables(base: Path, server_dir: Path) -> dict[str, str]:
    """The runtimes' path variables (runtimes spec 6.1) for an unsandboxed runtime."""
    return {
        "OPEN_RUNTIMES_CODE_DIR": str(base / "code"),
        "OPEN_RUNTIMES_BUILD_DIR": str(base / "build"),
        "OPEN_RUNTIMES_SERVER_DIR": str(server_dir),
        "OPEN_RUNTIMES_FUNCTION_DIR": str(base / "function"),
        "OPEN_RUNTIMES_LOGS_DIR": str(base / "logs"),
        "TMPDIR": str(base / "tmp"),
    }


def _host_paths(command: str, base: Path, server_dir: Path) -> str:
    """Rewrite the sandbox paths of ``command`` to host paths (unsandboxed fallback), in one
    pass so that a replaced path is never rewritten again."""
    replacements = {"/usr/local/server/src/function": str(base / "function"),
                    "/usr/local/server": str(server_dir),
                    "/usr/local/build": str(base / "build"),
                    "/mnt/code": str(base / "code"),
                    "/mnt/logs": str(base / "logs"),
                    "/tmp/": str(base / "tmp") + "/"}
    pattern = re.compile("|".join(re.escape(old) for old in replacements))  # longest first
    return pattern.sub(lambda match: replacements[match.group(0)], command)
