"""Periodic removal of idle runtimes and leftover files (spec 4.2)."""
from __future__ import annotations

import logging
import threading
import time
from typing import Iterable

from executor.runtimes import Runtime
from executor.services import Services

log = logging.getLogger(__name__)


def idle(runtimes: Iterable[Runtime], now: float, threshold: float) -> list[Runtime]:
    """Runtimes to remove: idle longer than their own idle timeout (else ``threshold``), nothing
    in flight, not being built, not kept warm."""
    return [
        runtime for runtime in runtimes
        if not runtime.pending and not runtime.building and runtime.inflight == 0
        and not runtime.keep_warm
        and now - runtime.updated > (threshold if runtime.idle_timeout is None else runtime.idle_timeout)
    ]


def run_once(services: Services, now: float | None = None) -> int:
    """One maintenance round; returns how many runtimes it removed."""
    stale = idle(services.registry.all(), time.time() if now is None else now,
                 services.config.inactive_threshold)
    for runtime in stale:
        # Re-check at the last moment: an execution may have started since the scan.
        if runtime.inflight == 0 and not runtime.building and not runtime.keep_warm:
            log.info("maintenance: removing idle runtime %s", runtime.runtime_id)
            services.remove(runtime)
    try:
        services.adapter.prune(services.config.hostname,
                               lambda: services.registry.names() | services.pools.names())
    except Exception:
        log.exception("maintenance: pruning leftovers failed")
    return len(stale)


class Maintenance:
    """A background loop running :func:`run_once` every interval until stopped."""

    def __init__(self, services: Services):
        self.services = services
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="maintenance", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.services.config.maintenance_interval):
            try:
                run_once(self.services)
            except Exception:
                log.exception("maintenance round failed")
