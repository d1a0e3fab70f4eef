"""Process mode (spec 6.5): helpers and server run as local processes in a bubblewrap sandbox
over the runtime's Debian root, with host paths and the directory variables of spec 6.1."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from executor import sandbox

from .instances import READY_TIMEOUT, Build, LineRecorder, Server, Workspace, merge_env, standard_env
from .targets import Target

# Top-level entries of a Debian root the sandbox does not take from it.
SKIPPED_ROOT_ENTRIES = {"dev", "proc", "sys", "tmp", "run"}
# Skipped when comparing the server dir: bytecode caches (allowed, spec 1.1.9) and dev leftovers.
IGNORED_SERVER_PATHS = ("__pycache__", "node_modules", ".pytest_cache")


def debian_root(target: Target) -> Path:
    """The Debian root of the target's suite; fails (never skips) when it was not prepared."""
    root = sandbox.rootfs_for(target.spec.suite)
    if root is None:
        pytest.fail(
            f"no Debian root for {target.spec.suite} ({target.spec.name}): run `make rootfs` "
            f"(or `scripts/debian.sh rootfs {target.spec.suite}`)"
        )
    if sandbox.bwrap_path() is None:
        pytest.fail("bubblewrap (bwrap) is not installed: run `make deps`")
    return root


def sandbox_argv(root: Path, mounts: list[sandbox.Mount], command: list[str], cwd: str) -> list[str]:
    """``sandbox.argv`` with host paths usable as mount points.

    ``sandbox.argv`` binds the root read-only at ``/``, so a bind at a host path such as
    ``/work/...`` fails (its parent cannot be created). We assemble the root instead on bwrap's
    own tmpfs (each top-level entry bound read-only), give it a private ``/tmp``, and make ``/``
    read-only once every mount point exists.
    """
    args = sandbox.argv(root, mounts, command, cwd=cwd)
    assert args[1:4] == ["--ro-bind", str(root), "/"], args[:4]
    entries: list[str] = []
    for entry in sorted(root.iterdir()):
        if entry.name in SKIPPED_ROOT_ENTRIES or entry.name.startswith("."):
            continue
        if entry.is_symlink():
            entries += ["--symlink", os.readlink(entry), f"/{entry.name}"]
        elif entry.is_dir():
            entries += ["--ro-bind", str(entry), f"/{entry.name}"]
    args[1:4] = entries + ["--tmpfs", "/tmp"]
    # A host file can only be bound over a file the root has (bookworm's minbase lacks /etc/hosts).
    for host_file in sandbox.HOST_FILES:
        if not os.path.lexists(root / host_file.lstrip("/")) and host_file in args:
            at = args.index(host_file)
            del args[at - 1: at + 2]
    chdir = args.index("--chdir")
    args[chdir:chdir] = ["--remount-ro", "/"]
    return args


def copy_source(source: Path, code_dir: Path) -> None:
    """A private copy of a function's source, plus a top-level dotfile the build must not pack."""
    shutil.copytree(
        source, code_dir,
        ignore=shutil.ignore_patterns("node_modules", "__pycache__", "code.tar.gz", "runtime-env"),
    )
    (code_dir / ".harness-dotfile").write_text("top-level dotfiles are not packed\n")


class ProcessLauncher:
    mode = "process"

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def build(self, target: Target, entrypoint: str, command: str, source: Path | None = None) -> Build:
        """Build ``source`` (default: the target's test function) with ``command``."""
        root = debian_root(target)
        work = self.workspace.new_dir(f"build-{target.id(False)}-{entrypoint}")
        code_dir, build_dir = work / "code", work / "build"
        copy_source(source or target.source_dir, code_dir)
        build_dir.mkdir()
        server_dir = str(target.server_dir)
        env = sandbox.clean_env({
            "OPEN_RUNTIMES_CODE_DIR": str(code_dir),
            "OPEN_RUNTIMES_BUILD_DIR": str(build_dir),
            "OPEN_RUNTIMES_SERVER_DIR": server_dir,
            "OPEN_RUNTIMES_ENTRYPOINT": entrypoint,
        })
        mounts = [
            sandbox.Mount(server_dir, server_dir),
            sandbox.Mount(str(code_dir), str(code_dir), writable=True),
            sandbox.Mount(str(build_dir), str(build_dir), writable=True),
        ]
        argv = sandbox_argv(root, mounts, ["sh", "helpers/build.sh", command], cwd=server_dir)
        done = subprocess.run(argv, env=env, capture_output=True, timeout=600, start_new_session=True)
        return Build(target, entrypoint, code_dir, done.returncode,
                     done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))

    def shared_server_dir(self, target: Target) -> Path:
        """A writable copy of the runtime folder for several runtimes to share.

        The repository's folder is mounted read-only, so a runtime could not write into it
        anyway; with a writable copy, a write shows up as a change (and no developer's edit of
        the repository does).
        """
        copy = self.workspace.new_dir(f"server-{target.language}") / target.language
        shutil.copytree(target.server_dir, copy, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
        function_dir = copy / "src" / "function"
        if function_dir.is_dir():
            for leftover in function_dir.iterdir():
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        return copy

    def start(self, target: Target, build: Build, *, port: int | str, env: dict | None = None,
              logs_dir: bool = True, server_dir: Path | None = None) -> "ProcessServer":
        """Start a runtime; ``server_dir`` (a copy from shared_server_dir) is mounted writable."""
        root = debian_root(target)
        work = self.workspace.new_dir(f"run-{target.id(False)}")
        function_dir, logs = work / "function", work / "logs"
        function_dir.mkdir()
        if logs_dir:
            logs.mkdir()
        writable_server = server_dir is not None
        server_dir = str(server_dir or target.server_dir)
        variables = merge_env(standard_env(target, port), env)
        variables.update({
            "OPEN_RUNTIMES_CODE_DIR": str(build.code_dir),
            "OPEN_RUNTIMES_SERVER_DIR": server_dir,
            "OPEN_RUNTIMES_FUNCTION_DIR": str(function_dir),
            # Without a logs dir, the variable names a path that does not exist (spec 4.5).
            "OPEN_RUNTIMES_LOGS_DIR": str(logs),
        })
        mounts = [
            sandbox.Mount(server_dir, server_dir, writable=writable_server),
            sandbox.Mount(str(build.code_dir), str(build.code_dir)),
            sandbox.Mount(str(function_dir), str(function_dir), writable=True),
        ]
        if logs_dir:
            mounts.append(sandbox.Mount(str(logs), str(logs), writable=True))
        command = ["sh", "helpers/start.sh", target.spec.start_command]
        argv = sandbox_argv(root, mounts, command, cwd=server_dir)
        server = ProcessServer(argv, sandbox.clean_env(variables), int_or_none(port),
                               logs if logs_dir else None, Path(server_dir))
        server.function_dir = function_dir
        return server


def int_or_none(port: int | str) -> int | None:
    try:
        return int(port)
    except ValueError:
        return None


def read_stat(pid: int | str) -> tuple[int, str] | None:
    """(parent PID, command name) of a live process; None if it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    name = stat[stat.index("(") + 1: stat.rindex(")")]
    state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
    return None if state == "Z" else (int(ppid), name)


def process_table() -> dict[int, tuple[int, str]]:
    """{pid: (parent pid, command name)} of every live process on the host."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = read_stat(entry)
            if stat is not None:
                table[int(entry)] = stat
    return table


def process_name(pid: int) -> str | None:
    """The command name of a live process, or None."""
    stat = read_stat(pid)
    return stat[1] if stat else None


def descendants(pid: int) -> list[tuple[int, str]]:
    """The processes below ``pid``, parents before children."""
    table = process_table()
    found, queue = [], [pid]
    while queue:
        parent = queue.pop(0)
        for child, (ppid, name) in sorted(table.items()):
            if ppid == parent:
                found.append((child, name))
                queue.append(child)
    return found


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    """{relative path: (size, mtime)} of the files of ``directory``, caches aside."""
    files = {}
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = [d for d in dirnames if d not in IGNORED_SERVER_PATHS]
        rel = os.path.relpath(dirpath, directory)
        if rel == os.path.join("src", "function") or rel.startswith(os.path.join("src", "function") + os.sep):
            continue
        for name in filenames + dirnames:
            path = os.path.join(dirpath, name)
            stat = os.lstat(path)
            files[os.path.relpath(path, directory)] = (stat.st_size, stat.st_mtime_ns)
    return files


class ProcessServer(Server):
    def __init__(self, argv: list[str], env: dict[str, str], port: int | None,
                 logs_dir: Path | None, server_dir: Path) -> None:
        self.port = port
        self.logs_dir = logs_dir
        self.server_dir = server_dir
        self._before = snapshot(server_dir)
        self._out, self._err = LineRecorder(), LineRecorder()
        self._seen: list[tuple[int, str]] = []
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True,
        )
        self._threads = [self._out.follow(self.process.stdout), self._err.follow(self.process.stderr)]

    def stdout(self) -> str:
        return self._out.text()

    def stderr(self) -> str:
        return self._err.text()

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                time.sleep(0.1)  # let the readers drain the output
                raise RuntimeError(f"runtime exited with {self.process.returncode} before listening "
                                   f"on {self.port}\n{self.describe()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.01)
        raise TimeoutError(f"runtime does not listen on {self.port} after {timeout} s\n{self.describe()}")

    def starting_at(self) -> float | None:
        return self._out.time_of("Starting ...")

    def pids(self) -> list[int]:
        return [pid for pid, name in descendants(self.process.pid) if name != "bwrap"]

    def server_pid(self) -> int:
        """The server itself: the first process below bwrap's own that is not bwrap."""
        for pid, name in descendants(self.process.pid):
            if name != "bwrap":
                return pid
        raise RuntimeError("no server process found below the sandbox")

    def exit_after_start(self, timeout: float = 30.0) -> tuple[int, float]:
        status = self.process.wait(timeout)
        exited = time.monotonic()
        for thread in self._threads:
            thread.join(5)
        started = self._out.time_of("Starting ...")
        if started is None:
            raise AssertionError(f"the start never printed `Starting ...`\n{self.describe()}")
        return status, exited - started

    def terminate(self, timeout: float = 10.0) -> float:
        pid = self.server_pid()
        self._seen = [p for p in descendants(self.process.pid) if p[1] != "bwrap"]
        sent = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        self.process.wait(timeout)
        return time.monotonic() - sent

    def leftovers(self) -> list[str]:
        return [f"{pid} {name}" for pid, name in self._seen if process_name(pid) == name]

    def server_dir_changes(self) -> list[str]:
        after = snapshot(self.server_dir)
        return sorted(path for path in set(self._before) | set(after)
                      if self._before.get(path) != after.get(path))

    def stop(self) -> None:
        if self.process.poll() is None:
            # Killing the sandbox's init first ends its PID namespace and lets bwrap reap it;
            # killing the whole group at once would orphan it as a zombie for a moment.
            for pid, _ in descendants(self.process.pid)[:1]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(10)
        for thread in self._threads:
            thread.join(5)
