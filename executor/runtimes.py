"""The in-memory registry of this executor's runtimes (spec 4.1).

One registry per executor process, shared by every greenlet. A runtime is registered in the
``pending`` state *before* it is started, so a concurrent create of the same id sees it at
once (409) and concurrent cold-start executions wait on it instead of starting another.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from executor.adapters.base import Instance
from executor.errors import ExecutorError
from executor.output import BuildOutput

PENDING = "pending"
UP = "Up"


@dataclass(eq=False)
class Runtime:
    """One runtime: its public row plus what the executor needs to drive it."""

    runtime_id: str
    name: str
    hostname: str
    image: str
    version: str
    secret: str                                 # never returned by any endpoint
    status: str = PENDING
    listening: bool = False
    initialised: bool = False
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    inflight: int = 0
    building: bool = False
    instance: Instance | None = None
    output: BuildOutput | None = None
    failure: ExecutorError | None = None        # why creation failed, for waiters
    settled: threading.Event = field(default_factory=threading.Event)  # creation ended
    removed: threading.Event = field(default_factory=threading.Event)
    client: Any = None                          # its keep-alive connections (runtime_http), set on first use
    pooled: bool = False                        # started as a specialized pool runtime
    keep_warm: bool = False                     # maintenance never removes it
    idle_timeout: int | None = None             # seconds idle before maintenance removes it

    @property
    def pending(self) -> bool:
        return self.status == PENDING

    def touch(self) -> None:
        self.updated = time.time()

    def row(self) -> dict:
        """The public listing row (spec 3.2). The secret is deliberately absent."""
        return {
            "name": self.name,
            "runtimeId": self.runtime_id,
            "hostname": self.hostname,
            "image": self.image,
            "status": self.status,
            "listening": self.listening,
            "initialised": self.initialised,
            "created": self.created,
            "updated": self.updated,
            "version": self.version,
            "inflight": self.inflight,
            "keepWarm": self.keep_warm,
            "idleTimeout": self.idle_timeout,
        }


class Registry:
    """Runtimes by id; every mutation happens under one lock."""

    def __init__(self):
        self._lock = threading.Lock()
        self._runtimes: dict[str, Runtime] = {}

    def claim(self, runtime: Runtime) -> Runtime | None:
        """Register ``runtime`` unless its id is taken; return the holder when it is."""
        with self._lock:
            existing = self._runtimes.get(runtime.runtime_id)
            if existing is not None:
                return existing
            self._runtimes[runtime.runtime_id] = runtime
            return None

    def get(self, runtime_id: str) -> Runtime | None:
        return self._runtimes.get(runtime_id)

    def discard(self, runtime: Runtime) -> bool:
        """Take ``runtime`` out (only that very object); whether it was still registered."""
        with self._lock:
            if self._runtimes.get(runtime.runtime_id) is runtime:
                del self._runtimes[runtime.runtime_id]
                return True
            return False

    def all(self) -> list[Runtime]:
        with self._lock:
            return list(self._runtimes.values())

    def names(self) -> set[str]:
        """Names of the runtimes and of their instances (a pooled runtime keeps its pool name)."""
        with self._lock:
            runtimes = list(self._runtimes.values())
        names = {runtime.name for runtime in runtimes}
        names.update(runtime.instance.name for runtime in runtimes if runtime.instance is not None)
        return names

    def __len__(self) -> int:
        return len(self._runtimes)
