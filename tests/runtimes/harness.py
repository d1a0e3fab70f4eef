"""The session's harness: builds (memoized), running servers, and the clean-up of both."""
from __future__ import annotations

import socket
import uuid
from pathlib import Path

from . import docker_mode
from .docker_mode import DockerLauncher
from .instances import Build, Server, Workspace
from .process_mode import ProcessLauncher
from .targets import Target


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Harness:
    """Starts runtimes in either mode and guarantees that all of them are gone at the end."""

    def __init__(self) -> None:
        Workspace.remove_stale()
        docker_mode.remove_stale()
        self.session = uuid.uuid4().hex[:8]
        self.workspace = Workspace()
        self.launchers = {
            "process": ProcessLauncher(self.workspace),
            "docker": DockerLauncher(self.workspace, self.session),
        }
        self._builds: dict[tuple, Build] = {}
        self._servers: list[Server] = []
        self._used_docker = False

    def build(self, target: Target, entrypoint: str | None = None, command: str | None = None,
              source: Path | None = None) -> Build:
        """Build the target's test function (default: its entrypoint and build command).

        Builds are memoized per (runtime, mode, entrypoint, command): servers of one target share one.
        """
        entrypoint = entrypoint or target.entrypoint
        command = target.spec.build_command if command is None else command
        key = (target.spec.name, target.mode, entrypoint, command, source)
        if key not in self._builds:
            self._used_docker |= target.mode == "docker"
            self._builds[key] = self.launchers[target.mode].build(target, entrypoint, command, source)
        return self._builds[key]

    def shared_server_dir(self, target: Target) -> Path | None:
        """A server dir several runtimes of the target can share (None: the mode's own)."""
        return self.launchers[target.mode].shared_server_dir(target)

    def start(self, target: Target, build: Build | None = None, *, env: dict | None = None,
              logs_dir: bool = True, port: int | str | None = None, wait: bool = True,
              server_dir: Path | None = None) -> Server:
        """Start a runtime from ``build`` (default: the target's build) with the 9.1 environment.

        ``env`` overrides variables (None removes one); ``wait`` waits until it listens.
        """
        build = build or self.build(target)
        if build.returncode != 0:
            raise RuntimeError(f"cannot start {target.id()}: {build.describe()}")
        self._used_docker |= target.mode == "docker"
        server = self.launchers[target.mode].start(
            target, build, port=free_port() if port is None else port, env=env, logs_dir=logs_dir,
            server_dir=server_dir)
        self._servers.append(server)
        if wait:
            try:
                server.wait_ready()
            except Exception:
                server.stop()
                raise
        return server

    def stop(self, server: Server) -> None:
        server.stop()
        if server in self._servers:
            self._servers.remove(server)

    def close(self) -> None:
        """Stop every runtime, remove this session's containers and every temp dir."""
        for server in list(self._servers):
            self.stop(server)
        cleaner = None
        if self._used_docker:
            docker_mode.remove_leftovers(self.session)
            cleaner = self.launchers["docker"].any_image()
        self.workspace.remove(cleaner_image=cleaner)
