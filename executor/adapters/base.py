"""The one small interface every adapter (process, docker) implements.

An adapter starts a runtime from a :class:`Launch`, runs shell commands inside it (builds,
``/commands``), tells whether it is still alive, and removes it with everything it owns.
It knows nothing of HTTP, the registry or timeouts of executions: those live in the services.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

OutputSink = Callable[[bytes], None]


@dataclass(frozen=True)
class Launch:
    """Everything needed to start one runtime.

    ``command`` is the raw shell string run with ``bash -c`` in ``/usr/local/server``
    (the caller's ``runtimeEntrypoint``, or the default start form). ``None`` means the
    runtime only hosts a build: it idles until commands are run in it.
    """

    name: str                      # <executor hostname>-<runtimeId>: directory / container name
    runtime_id: str
    image: str
    command: str | None
    env: Mapping[str, str]         # user variables + OPEN_RUNTIMES_* (never the executor's env)
    cpus: float = 1.0
    memory_mb: int = 512
    source: Path | None = None     # host file copied to /tmp/code.tar.gz inside the runtime
    labels: Mapping[str, str] = field(default_factory=dict)
    # A pool runtime: its function dir must be a host directory the executor fills later.
    host_function_dir: bool = False


@dataclass
class Instance:
    """A started runtime, as the adapter reports it."""

    name: str
    host: str                      # where the runtime's HTTP server is reached
    port: int
    code_dir: Path | None = None   # host path of /mnt/code (the build artifact is collected there)
    logs_dir: Path | None = None   # host path of /mnt/logs (log files), None when unavailable
    function_dir: Path | None = None  # host path of the function dir, when the adapter binds one
    handle: object = None          # adapter-private: Popen, container object, ...


@dataclass(frozen=True)
class Exit:
    """Why a runtime is no longer running."""

    code: int | None
    output_tail: str               # the last lines it printed, for error messages


class CommandTimeout(Exception):
    """A command run by :meth:`Adapter.run` went past its timeout (it has been killed)."""


class Adapter(ABC):
    """Starts, inspects and removes runtimes."""

    name: str

    @abstractmethod
    def start(self, launch: Launch) -> Instance:
        """Start the runtime and return at once (readiness is polled by the caller)."""

    @abstractmethod
    def run(self, instance: Instance, command: str, timeout: float, sink: OutputSink,
            shell: str = "bash") -> int:
        """Run ``<shell> -c command`` inside the runtime, streaming stdout+stderr (interleaved,
        in order) to ``sink``; return the exit code, or raise :class:`CommandTimeout`."""

    @abstractmethod
    def exited(self, instance: Instance) -> Exit | None:
        """None while the runtime runs; otherwise its exit code and last output."""

    @abstractmethod
    def remove(self, instance: Instance) -> None:
        """Stop the runtime (its whole process tree / container) and delete its files.
        Idempotent: removing a runtime that is already gone is not an error."""

    @abstractmethod
    def remove_orphans(self, hostname: str) -> int:
        """Remove runtimes of this executor left by an earlier run; return how many."""

    def prepare(self) -> None:
        """Start-up work (pull images, create networks). Default: nothing."""

    def prune(self, hostname: str, in_use: Callable[[], set[str]]) -> int:
        """Delete leftovers (directories, ...) of ``hostname`` whose runtime name is not in
        ``in_use()``; return how many. Default: nothing to prune.

        ``in_use`` is called after the leftovers were listed: a runtime is registered before its
        directory or container exists, so one created meanwhile is never taken for a leftover."""
        return 0

    def cpu_seconds(self, instance: Instance) -> float | None:
        """CPU time used so far by the runtime, for usage figures. Default: unknown."""
        return None

    def close(self) -> None:
        """Release adapter resources at shutdown. Default: nothing."""
