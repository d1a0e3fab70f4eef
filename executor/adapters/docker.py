"""Runtimes as Docker containers, driven through the ``docker`` SDK (Docker Engine API).

Each runtime is one container named after the runtime (``<hostname>-<runtimeId>``) and labelled
with its executor, so orphans of a crashed executor are found again by label. The sandbox layout
of the spec is made of bind mounts of one host directory per runtime, under ``work_dir``::

    <work_dir>/<name>/source     ->  /tmp/code.tar.gz  (read-only copy of the source archive)
    <work_dir>/<name>/code/      ->  /mnt/code         (the build writes code.tar.gz here)
    <work_dir>/<name>/logs/      ->  /mnt/logs         (log files of executions)
    <work_dir>/<name>/function/  ->  /usr/local/server/src/function  (pool runtimes only: the
                                     executor fills it with the unpacked artifact)

Every SDK call blocks; under gevent (monkey-patched sockets) they yield to other greenlets.
The hot path of an execution makes no Docker call at all: the executor talks HTTP to the
runtime directly, and only asks :meth:`DockerAdapter.exited` when something went wrong.
"""
from __future__ import annotations

import logging
import os
import random
import secrets
import shutil
import socket
import struct
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound

from executor.adapters import logfiles
from executor.adapters.base import Adapter, CommandTimeout, Exit, Instance, Launch, OutputSink
from executor.errors import ExecutorError

log = logging.getLogger(__name__)

LABEL_EXECUTOR = "openruntimes-executor"
LABEL_RUNTIME_ID = "openruntimes-runtime-id"
SERVER_DIR = "/usr/local/server"
FUNCTION_DIR = SERVER_DIR + "/src/function"
RUNTIME_PORT = 3000          # the port of a runtime on a named network (its image default)
# The host's CA bundle: on hosts whose outbound TLS is intercepted, pip (certifi) and npm
# (node's built-in store) only trust the proxy when pointed at it. Builds need it, servers not.
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# A build-only runtime idles until commands are exec'd in it; Docker's init reaps their orphans.
IDLE_COMMAND = ["sleep", "infinity"]
TAIL_LINES = 20
# In each runtime dir: "<executor hostname>\n<image>", who owns it and what can delete it.
MARKER = ".executor"
# Container logs stay bounded however long a runtime lives (exited() reads only the tail).
LOG_CONFIG = {"type": "json-file", "config": {"max-size": "10m", "max-file": "1"}}
# Runs a command with stdout+stderr merged at the source (one pipe keeps their order) and its
# pid (a process-group leader: docker exec starts each process in its own session) in a file,
# so that a timeout can kill the command's whole process tree from a second exec.
EXEC_WRAPPER = 'echo $$ > "$0"; "$@" 2>&1; status=$?; rm -f "$0"; exit $status'
KILL_SCRIPT = (
    'i=0; while [ ! -s "$0" ] && [ $i -lt 20 ]; do sleep 0.05; i=$((i+1)); done; '
    'pid=$(cat "$0" 2>/dev/null) && kill -KILL "-$pid" 2>/dev/null; rm -f "$0"; exit 0'
)


@dataclass
class _Container:
    """What :attr:`Instance.handle` holds for a docker runtime."""

    id: str
    image: str
    directory: Path
    port: int | None          # the host port allocated on the host network, else None
    cpu_file: Path | None = None  # the container's cgroup CPU counter, once found


class DockerAdapter(Adapter):
    """Starts runtimes as containers of their image, one per runtime."""

    name = "docker"

    def __init__(
        self,
        *,
        hostname: str,
        work_dir: str | os.PathLike,
        networks: Sequence[str] = ("host",),
        port_range: tuple[int, int] = (20000, 29999),
        images: Sequence[str] = (),
        registry_username: str = "",
        registry_password: str = "",
        ca_bundle: str | None = HOST_CA_BUNDLE,
        client: docker.DockerClient | None = None,
        logs_root: str | os.PathLike | None = None,
    ):
        if not networks:
            raise ValueError("OPR_EXECUTOR_NETWORK: at least one network (or 'host') is required")
        if "host" in networks and len(networks) > 1:
            raise ValueError("OPR_EXECUTOR_NETWORK: 'host' cannot be combined with named networks")
        self.hostname = hostname
        self.work_dir = Path(work_dir)
        self.logs_root = Path(logs_root) / hostname if logs_root else None  # see logfiles.py
        self.networks = tuple(networks)
        self.host_network = self.networks == ("host",)
        self.images = tuple(images)
        self._auth = (
            {"username": registry_username, "password": registry_password}
            if registry_username else None
        )
        self.ca_bundle = ca_bundle if ca_bundle and os.path.isfile(ca_bundle) else None
        self._ports = _PortPool(*port_range)
        if client is None:
            try:
                client = docker.from_env(timeout=120, max_pool_size=64)
            except DockerException as error:
                raise RuntimeError(f"docker adapter: no Docker engine answers ({error})") from None
        self._client = client
        self._api = self._client.api

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, launch: Launch) -> Instance:
        """Create and start the container of ``launch``; its server may still be starting.

        Any failure removes what was made (directory, port, container) before raising. A missing
        image is a 400 ``Invalid image``; other refusals of Docker are ``runtime_failed`` errors
        that name the reason. Images are never pulled here (see :meth:`prepare`).
        """
        directory = self.work_dir / launch.name
        self._remove_dir(directory, launch.image)  # a stale leftover of a crashed run
        handle = _Container(id="", image=launch.image, directory=directory, port=None)
        try:
            return self._start(launch, handle)
        except ImageNotFound:
            self._discard(handle)
            raise ExecutorError(
                "general_argument_invalid",
                f"Invalid image: {launch.image} is not available on this Docker host "
                "(pull it, or list it in OPR_EXECUTOR_IMAGES).",
            ) from None
        except APIError as error:
            self._discard(handle)
            raise ExecutorError(
                "runtime_failed",
                f"Runtime failed. Docker could not start the container: {error.explanation or error}",
            ) from None
        except BaseException:
            self._discard(handle)
            raise

    def _start(self, launch: Launch, handle: _Container) -> Instance:
        code_dir = handle.directory / "code"
        code_dir.mkdir(parents=True)
        logs_dir = logfiles.make(handle.directory, self.logs_root)
        (handle.directory / MARKER).write_text(f"{self.hostname}\n{launch.image}\n")
        binds = {str(code_dir): {"bind": "/mnt/code", "mode": "rw"},
                 str(logs_dir): {"bind": "/mnt/logs", "mode": "rw"}}
        if launch.source is not None:
            shutil.copyfile(launch.source, handle.directory / "source")
            binds[str(handle.directory / "source")] = {"bind": "/tmp/code.tar.gz", "mode": "ro"}
        function_dir = None
        if launch.host_function_dir:
            function_dir = handle.directory / "function"
            function_dir.mkdir()
            binds[str(function_dir)] = {"bind": FUNCTION_DIR, "mode": "rw"}

        env = dict(launch.env)
        build_only = launch.command is None
        if build_only and self.ca_bundle:
            binds[self.ca_bundle] = {"bind": HOST_CA_BUNDLE, "mode": "ro"}
            env["PIP_CERT"] = HOST_CA_BUNDLE
            env["NODE_EXTRA_CA_CERTS"] = HOST_CA_BUNDLE

        hostname = None
        if self.host_network:
            handle.port = self._ports.acquire()
            env["OPEN_RUNTIMES_PORT"] = str(handle.port)
            # Loopback only: on the host network 0.0.0.0 would expose the runtime to the LAN.
            env["OPEN_RUNTIMES_HOST"] = "127.0.0.1"
            network, host, port = "host", "127.0.0.1", handle.port
        else:
            # Reached by its container name (Docker's DNS); hostnames stop at 63 characters.
            network, host, port = random.choice(self.networks), launch.name, RUNTIME_PORT
            hostname = launch.name if len(launch.name) <= 63 else None

        host_config = self._api.create_host_config(
            binds=binds,
            network_mode=network,
            nano_cpus=int(launch.cpus * 1e9) if launch.cpus > 0 else None,
            mem_limit=f"{launch.memory_mb}m" if launch.memory_mb > 0 else None,
            privileged=False,
            init=build_only or None,
            security_opt=["no-new-privileges"],
            log_config=LOG_CONFIG,
        )
        labels = {**launch.labels, LABEL_EXECUTOR: self.hostname, LABEL_RUNTIME_ID: launch.runtime_id}
        command = IDLE_COMMAND if build_only else ["bash", "-c", launch.command]
        handle.id = self._create(launch, command, env, labels, host_config, hostname)
        self._api.start(handle.id)
        return Instance(name=launch.name, host=host, port=port,
                        code_dir=code_dir, logs_dir=logs_dir, function_dir=function_dir,
                        handle=handle)

    def _create(self, launch: Launch, command, env, labels, host_config, hostname) -> str:
        """Create the container; a stale one of the same name (a crashed run) is replaced."""
        for attempt in (1, 2):
            try:
                created = self._api.create_container(
                    launch.image, command=command, name=launch.name, hostname=hostname,
                    environment=env, labels=labels, working_dir=SERVER_DIR,
                    host_config=host_config,
                )
                return created["Id"]
            except APIError as error:
                if error.status_code != 409 or attempt == 2:
                    raise
                log.warning("replacing stale container %s", launch.name)
                self._force_remove(launch.name)
        raise AssertionError("unreachable")

    def run(self, instance: Instance, command: str, timeout: float, sink: OutputSink,
            shell: str = "bash") -> int:
        """Exec ``<shell> -c command`` in the container, streaming its merged output."""
        handle: _Container = instance.handle
        pid_file = f"/tmp/.opr-exec-{secrets.token_hex(8)}"
        exec_id = self._api.exec_create(
            handle.id, ["sh", "-c", EXEC_WRAPPER, pid_file, shell, "-c", command],
            stdout=True, stderr=True, workdir=SERVER_DIR,
        )["Id"]
        deadline = time.monotonic() + timeout
        stream = self._api.exec_start(exec_id, socket=True)
        try:
            for chunk in _frames(_raw_socket(stream), deadline):
                sink(chunk)
        except TimeoutError:
            self._kill_exec(handle, pid_file)
            raise CommandTimeout(f"Command timed out after {timeout:g} seconds.") from None
        finally:
            _close(stream)
        return self._exit_code(exec_id)

    def _kill_exec(self, handle: _Container, pid_file: str) -> None:
        """Kill the process group of a timed-out command (through a second exec)."""
        try:
            self._api.exec_start(
                self._api.exec_create(handle.id, ["sh", "-c", KILL_SCRIPT, pid_file])["Id"]
            )
        except DockerException as error:  # the container is gone: so is the command
            log.info("could not kill a timed-out command in %s: %s", handle.id[:12], error)

    def _exit_code(self, exec_id: str) -> int:
        # The stream can close a moment before the daemon records the exit code.
        for _ in range(200):
            state = self._api.exec_inspect(exec_id)
            if not state.get("Running") and state.get("ExitCode") is not None:
                return int(state["ExitCode"])
            time.sleep(0.01)
        raise RuntimeError(f"exec {exec_id[:12]} did not report an exit code")

    def exited(self, instance: Instance) -> Exit | None:
        """None while the container runs; else its exit code and the tail of its logs."""
        handle: _Container = instance.handle
        try:
            state = self._api.inspect_container(handle.id)["State"]
        except NotFound:
            return Exit(code=None, output_tail="The runtime's container is gone.")
        if state.get("Running") or state.get("Status") == "created":
            return None
        try:
            tail = self._api.logs(handle.id, stdout=True, stderr=True, tail=TAIL_LINES)
        except NotFound:
            tail = b""
        return Exit(code=state.get("ExitCode"), output_tail=tail.decode("utf-8", "replace"))

    def remove(self, instance: Instance) -> None:
        """Force-remove the container and delete its host directory; idempotent."""
        handle: _Container = instance.handle
        self._discard(handle)

    def _discard(self, handle: _Container) -> None:
        if handle.id:
            self._force_remove(handle.id)
        self._ports.release(handle.port)
        handle.port = None
        self._remove_dir(handle.directory, handle.image)

    def _force_remove(self, container: str) -> None:
        try:
            self._api.remove_container(container, force=True, v=True)
        except NotFound:
            pass
        except APIError as error:
            if error.status_code != 409:  # 409: removal already in progress
                raise

    def remove_orphans(self, hostname: str) -> int:
        """Remove every container labelled with ``hostname`` and the directories it owned."""
        containers = self._api.containers(all=True, filters={"label": f"{LABEL_EXECUTOR}={hostname}"})
        for container in containers:
            self._force_remove(container["Id"])
        removed = len(containers)
        if self.work_dir.is_dir():
            for directory in self.work_dir.iterdir():
                owner, image = _owner(directory)
                if owner == hostname:
                    self._remove_dir(directory, image)
        if hostname == self.hostname:
            logfiles.prune(logfiles.orphans(self.logs_root), self.work_dir, set())
        if removed:
            log.info("removed %d orphaned runtime container(s) of %s", removed, hostname)
        return removed

    def prune(self, hostname: str, in_use: Callable[[], set[str]]) -> int:
        """Remove containers and directories of ``hostname`` whose runtime is not in ``in_use()``."""
        containers = self._api.containers(all=True, filters={"label": f"{LABEL_EXECUTOR}={hostname}"})
        directories = []
        if self.work_dir.is_dir():
            directories = [(directory, *_owner(directory)) for directory in self.work_dir.iterdir()]
        logs = logfiles.orphans(self.logs_root) if hostname == self.hostname else []
        keep = in_use()
        pruned = 0
        for container in containers:
            name = (container.get("Names") or ["/"])[0].lstrip("/")
            if name not in keep:
                self._force_remove(container["Id"])
                pruned += 1
        for directory, owner, image in directories:
            if owner == hostname and directory.name not in keep:
                self._remove_dir(directory, image)
                pruned += 1
        logfiles.prune(logs, self.work_dir, keep)
        return pruned

    def cpu_seconds(self, instance: Instance) -> float | None:
        """CPU time of the container: its cgroup counter when visible, else one stats call."""
        handle: _Container = instance.handle
        if handle.cpu_file is None:
            handle.cpu_file = _cgroup_cpu_file(handle.id)
        if handle.cpu_file is not None:
            try:
                return _read_cpu_file(handle.cpu_file)
            except (OSError, ValueError):
                return None  # the container is gone
        try:
            stats = self._api.stats(handle.id, stream=False, one_shot=True)
            return stats["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9
        except (DockerException, KeyError, TypeError):
            return None

    # -- start-up and shutdown -----------------------------------------------------------------

    def prepare(self) -> None:
        """Create the named networks that are missing; pull ``images`` in the background."""
        if not self.host_network:
            for network in self.networks:
                if not self._api.networks(names=[network]):
                    log.info("creating Docker network %s", network)
                    try:
                        self._api.create_network(network, driver="bridge")
                    except APIError as error:  # created meanwhile by another executor
                        if error.status_code != 409:
                            raise
        if self.images:
            threading.Thread(target=self._pull_all, name="docker-pull", daemon=True).start()

    def _pull_all(self) -> None:
        for image in self.images:
            repository, tag = docker.utils.parse_repository_tag(image)
            try:
                # A pull reports most failures inside its progress stream, not as an HTTP error.
                for event in self._api.pull(repository, tag=tag or "latest", auth_config=self._auth,
                                            stream=True, decode=True):
                    if "error" in event:
                        raise DockerException(event["error"])
                log.info("pulled image %s", image)
            except DockerException as error:
                log.warning("could not pull image %s: %s", image, error)

    def close(self) -> None:
        logfiles.close(self.logs_root)
        self._client.close()

    # -- host directories ----------------------------------------------------------------------

    def _remove_dir(self, directory: Path, image: str | None) -> None:
        """Delete a runtime directory, also when a container wrote root-owned files in it."""
        if not directory.exists():
            return
        logfiles.remove(directory)
        try:
            shutil.rmtree(directory)
        except PermissionError:
            if image is None:
                raise
            self._remove_as_root(directory, image)
            shutil.rmtree(directory, ignore_errors=True)

    def _remove_as_root(self, directory: Path, image: str) -> None:
        """Empty ``directory`` from a throw-away container (root in it), without network."""
        container = self._api.create_container(
            image, command=["sh", "-c", "find /w -mindepth 1 -delete"],
            host_config=self._api.create_host_config(
                binds={str(directory): {"bind": "/w", "mode": "rw"}}, network_mode="none"),
            labels={LABEL_EXECUTOR: self.hostname},
        )["Id"]
        try:
            self._api.start(container)
            self._api.wait(container, timeout=60)
        finally:
            self._force_remove(container)


class _PortPool:
    """Host ports of runtimes on the host network: unique per executor, free when handed out."""

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high
        self._used: set[int] = set()
        self._next = low
        self._lock = threading.Lock()

    def acquire(self) -> int:
        with self._lock:
            for _ in range(self.high - self.low + 1):
                port = self._next
                self._next = self.low if port >= self.high else port + 1
                if port not in self._used and _bindable(port):
                    self._used.add(port)
                    return port
        raise ExecutorError("runtime_failed", "Runtime failed. No free port left in the port range.")

    def release(self, port: int | None) -> None:
        with self._lock:
            self._used.discard(port)


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# Where Docker puts a container's CPU counter (cgroup v1 and v2, cgroupfs and systemd drivers).
_CPU_FILES = (
    "/sys/fs/cgroup/cpuacct/docker/{id}/cpuacct.usage",
    "/sys/fs/cgroup/cpu,cpuacct/docker/{id}/cpuacct.usage",
    "/sys/fs/cgroup/cpuacct/system.slice/docker-{id}.scope/cpuacct.usage",
    "/sys/fs/cgroup/system.slice/docker-{id}.scope/cpu.stat",
    "/sys/fs/cgroup/docker/{id}/cpu.stat",
)


def _cgroup_cpu_file(container_id: str) -> Path | None:
    for pattern in _CPU_FILES:
        path = Path(pattern.format(id=container_id))
        if path.is_file():
            return path
    return None


def _read_cpu_file(path: Path) -> float:
    text = path.read_text()
    if path.name == "cpu.stat":  # cgroup v2: "usage_usec N" among other lines
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return int(value) / 1e6
        raise ValueError("no usage_usec in cpu.stat")
    return int(text) / 1e9  # cgroup v1: nanoseconds


def _owner(directory: Path) -> tuple[str | None, str | None]:
    """The executor hostname and image recorded in a runtime directory, if it has a marker."""
    try:
        lines = (directory / MARKER).read_text().splitlines()
    except OSError:
        return None, None
    return (lines[0] if lines else None), (lines[1] if len(lines) > 1 else None)


# -- the exec stream ---------------------------------------------------------------------------

def _raw_socket(stream) -> socket.socket:
    """The socket under what ``exec_start(socket=True)`` returns (a socket or a SocketIO)."""
    return getattr(stream, "_sock", stream)


def _frames(sock: socket.socket, deadline: float) -> Iterator[bytes]:
    """Payloads of Docker's multiplexed stream (8-byte headers) until EOF.

    Raises TimeoutError once ``deadline`` passes. The SDK's own reader polls without a
    timeout, so this one reads the socket itself.
    """
    buffer = b""
    while True:
        while len(buffer) < 8:
            data = _recv(sock, deadline)
            if not data:
                return
            buffer += data
        _, length = struct.unpack(">BxxxL", buffer[:8])
        buffer = buffer[8:]
        while length:
            if not buffer:
                buffer = _recv(sock, deadline)
                if not buffer:
                    return
            payload, buffer = buffer[:length], buffer[length:]
            length -= len(payload)
            yield payload


def _recv(sock: socket.socket, deadline: float) -> bytes:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    sock.settimeout(remaining)
    try:
        return sock.recv(65536)
    except socket.timeout:  # an alias of TimeoutError since 3.10, kept explicit for gevent
        raise TimeoutError from None


def _close(stream) -> None:
    sock = _raw_socket(stream)
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    for closable in (sock, stream, getattr(stream, "_response", None)):
        try:
            if closable is not None:
                closable.close()
        except Exception:  # closing is best effort
            pass
