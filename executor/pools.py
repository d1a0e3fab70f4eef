"""Prewarmed pools: per image, N started pool-mode runtimes that hold no function yet.

A cold start takes one (:meth:`Pools.take`, atomic) and specializes it; a background loop per
image starts a replacement. Pool runtimes are named ``<hostname>-pool-<token>`` and labelled
with their executor, so orphan removal and pruning find them like any other runtime.
"""
from __future__ import annotations

import http.client
import logging
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from executor import catalog
from executor.adapters.base import Adapter, Instance, Launch
from executor.config import Config

log = logging.getLogger(__name__)

POOL_CPUS = 1.0                     # pool runtimes serve requests with the default limits only
POOL_MEMORY_MB = 512
POOL_COMMAND = 'nohup helpers/start.sh "{}"'   # no artifact: the function comes later
READY_SECONDS = 60                  # a pool runtime not listening by then is discarded
READY_POLL_SECONDS = 0.02
PROBE_SECONDS = 2
NOT_SPECIALIZED = 503               # a pool runtime's answer to any call before specialization
RETRY_SECONDS = (1, 2, 5, 10, 30)   # back-off between failed starts
SHRINK_SECONDS = 90                 # how long shutdown waits for starts in progress
# A refill starts a moment after a take: starting a runtime forks the executor, which would
# otherwise delay the specialization and first call of the hit that emptied the slot.
REFILL_DELAY_SECONDS = 0.25


@dataclass
class Pooled:
    """A started, listening pool runtime."""

    image: str
    secret: str
    instance: Instance


class Pools:
    """The pools of one executor, filled by one background thread per image."""

    def __init__(self, adapter: Adapter, config: Config):
        self.adapter = adapter
        self.config = config
        self.targets = dict(config.prewarm)
        self._ready: dict[str, deque[Pooled]] = {image: deque() for image in self.targets}
        self._names: set[str] = set()           # ready or starting: pruning must spare them
        self._lock = threading.Lock()
        self._wake = {image: threading.Event() for image in self.targets}
        self._closed = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for image in self.targets:
            thread = threading.Thread(target=self._fill, args=(image,), name=f"pool {image}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def serves(self, image: str, cpus: float, memory: int) -> bool:
        """Whether a cold start with these limits may use a runtime of the pool of ``image``."""
        return image in self.targets and cpus == POOL_CPUS and memory == POOL_MEMORY_MB

    def take(self, image: str) -> Pooled | None:
        """A ready runtime of ``image``, now owned by the caller; None when the pool is empty."""
        with self._lock:
            ready = self._ready.get(image)
            pooled = ready.popleft() if ready else None
            if pooled is not None:
                self._names.discard(pooled.instance.name)
        if image in self._wake:
            self._wake[image].set()
        return pooled

    def names(self) -> set[str]:
        with self._lock:
            return set(self._names)

    def status(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {image: {"ready": len(self._ready[image]), "target": target}
                    for image, target in self.targets.items()}

    def shrink(self) -> None:
        """Stop refilling and remove every pool runtime, waiting for starts in progress."""
        self._closed.set()
        for wake in self._wake.values():
            wake.set()
        deadline = time.monotonic() + SHRINK_SECONDS
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            leftovers = [pooled for ready in self._ready.values() for pooled in ready]
            for ready in self._ready.values():
                ready.clear()
            self._names.clear()
        for pooled in leftovers:
            self._remove(pooled)

    # -- the refill loop -----------------------------------------------------------------------

    def _fill(self, image: str) -> None:
        failures = 0
        while not self._closed.is_set():
            with self._lock:
                missing = self.targets[image] - len(self._ready[image])
            if missing <= 0:
                self._wake[image].wait()
                self._wake[image].clear()
                self._closed.wait(REFILL_DELAY_SECONDS)
                continue
            try:
                pooled = self._start(image)
            except Exception as error:
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                log.warning("pool %s: could not start a runtime (%s); retrying in %d s", image, error, delay)
                self._closed.wait(delay)
                continue
            failures = 0
            with self._lock:
                if not self._closed.is_set():
                    self._ready[image].append(pooled)
                    continue
            self._remove(pooled)  # shut down while it started

    def _start(self, image: str) -> Pooled:
        spec = catalog.by_image(image)
        secret = secrets.token_hex(16)
        token = secrets.token_hex(6)
        name = f"{self.config.hostname}-pool-{token}"
        launch = Launch(
            name=name, runtime_id=f"pool-{token}", image=image,
            command=POOL_COMMAND.format(spec.start_command if spec else ""),
            env={"OPEN_RUNTIMES_POOL": "1", "OPEN_RUNTIMES_SECRET": secret},
            cpus=POOL_CPUS, memory_mb=POOL_MEMORY_MB,
            labels={"openruntimes-executor": self.config.hostname, "openruntimes-pool": image},
            host_function_dir=True,
        )
        with self._lock:
            self._names.add(name)
        pooled = None
        try:
            pooled = Pooled(image=image, secret=secret, instance=self.adapter.start(launch))
            if pooled.instance.function_dir is None:
                raise RuntimeError(f"the {self.adapter.name} adapter exposes no function dir")
            self._wait_ready(pooled.instance, secret)
            return pooled
        except BaseException:
            with self._lock:
                self._names.discard(name)
            if pooled is not None:
                self._remove(pooled)
            raise

    def _wait_ready(self, instance: Instance, secret: str) -> None:
        """Wait until the runtime answers a request: 503, not specialized yet. Listening is not
        enough: a runtime may listen before it has loaded its own modules."""
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline and not self._closed.is_set():
            exit = self.adapter.exited(instance)
            if exit is not None:
                raise RuntimeError(f"it exited with code {exit.code}: {exit.output_tail[-500:]}")
            status = _probe(instance, secret)
            if status == NOT_SPECIALIZED:
                return
            if status is not None:
                raise RuntimeError(f"it answered {status}, not {NOT_SPECIALIZED}: no pool mode?")
            time.sleep(READY_POLL_SECONDS)
        raise RuntimeError("it was not ready in time" if not self._closed.is_set() else "shutting down")

    def _remove(self, pooled: Pooled) -> None:
        try:
            self.adapter.remove(pooled.instance)
        except Exception:
            log.exception("pool %s: could not remove runtime %s", pooled.image, pooled.instance.name)


def _probe(instance: Instance, secret: str) -> int | None:
    """The status of ``GET /`` on the runtime, None when it does not answer (yet)."""
    connection = http.client.HTTPConnection(instance.host, instance.port, timeout=PROBE_SECONDS)
    try:
        connection.request("GET", "/", headers={"x-open-runtimes-secret": secret})
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()
