"""A cheap background sampler of CPU usage for ``/v1/health`` (spec 3.9).

Requests only read the last figures; the sampling (``/proc/stat`` and the adapter's CPU
counters) happens every ``interval`` seconds in a background greenlet/thread.
"""
from __future__ import annotations

import logging
import threading
import time

from executor.services import Services

log = logging.getLogger(__name__)


def host_cpu_times() -> tuple[float, float] | None:
    """(busy, total) jiffies of the host from ``/proc/stat``, or None when unavailable."""
    try:
        with open("/proc/stat", "rb") as handle:
            fields = [int(value) for value in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])
    return total - idle, total


class UsageSampler:
    """Keeps the latest host and per-runtime CPU percentages."""

    def __init__(self, services: Services):
        self.services = services
        self.host: float | None = None
        self.runtimes: dict[str, float | None] = {}
        self._last_host = host_cpu_times()
        self._last_cpu: dict[str, tuple[float, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="usage", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def sample(self) -> None:
        current = host_cpu_times()
        if current and self._last_host and current[1] > self._last_host[1]:
            busy = current[0] - self._last_host[0]
            self.host = round(100.0 * busy / (current[1] - self._last_host[1]), 2)
        self._last_host = current
        now = time.monotonic()
        figures: dict[str, float | None] = {}
        last_cpu = {}
        for runtime in self.services.registry.all():
            instance = runtime.instance
            seconds = self.services.adapter.cpu_seconds(instance) if instance is not None else None
            if seconds is None:
                figures[runtime.runtime_id] = None
                continue
            previous = self._last_cpu.get(runtime.name)
            last_cpu[runtime.name] = (seconds, now)
            if previous and now > previous[1]:
                # percent of one CPU, as `docker stats` reports it
                figures[runtime.runtime_id] = round(100.0 * (seconds - previous[0]) / (now - previous[1]), 2)
            else:
                figures[runtime.runtime_id] = None
        self._last_cpu = last_cpu
        self.runtimes = figures

    def _loop(self) -> None:
        while not self._stop.wait(self.services.config.usage_interval):
            try:
                self.sample()
            except Exception:
                log.exception("usage sampling failed")
