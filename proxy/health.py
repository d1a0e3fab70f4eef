"""Health of the executors: their state, the parsing of ``/v1/health``, the checking loop."""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Callable

import gevent
import gevent.lock
from geventhttpclient import HTTPClient

from proxy.config import Executor, ProxyConfig

log = logging.getLogger("proxy")

HEALTH_PATH = "/v1/health"


@dataclass
class RuntimeHealth:
    """A warm runtime an executor reported (or that this proxy just sent work to)."""

    usage: float | None = None
    inflight: int | None = None


@dataclass
class ExecutorState:
    """What this worker knows of one executor; ``index`` is its place in the configured order."""

    executor: Executor
    index: int
    online: bool = True
    usage: float | None = None
    runtimes: dict[str, RuntimeHealth] = field(default_factory=dict)
    inflight: int = 0  # requests this worker is forwarding to it right now

    @property
    def name(self) -> str:
        return self.executor.name


@dataclass(frozen=True)
class HealthReport:
    """The parsed answer of an online executor."""

    usage: float | None
    runtimes: dict[str, RuntimeHealth]


def _number(value) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def parse_health(status: int, body: bytes) -> HealthReport | None:
    """The report of an online executor, or None when the answer means offline."""
    if status != 200:
        return None
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(document, dict) or document.get("status") != "pass":
        return None
    runtimes: dict[str, RuntimeHealth] = {}
    reported = document.get("runtimes")
    if isinstance(reported, dict):
        for runtime_id, entry in reported.items():
            if isinstance(entry, dict) and entry.get("status") == "pass":
                inflight = entry.get("inflight")
                runtimes[runtime_id] = RuntimeHealth(
                    usage=_number(entry.get("usage")),
                    inflight=inflight if isinstance(inflight, int) and not isinstance(inflight, bool) else None,
                )
    return HealthReport(usage=_number(document.get("usage")), runtimes=runtimes)


class HealthMonitor:
    """Checks every executor concurrently on the interval and keeps their states current.

    One monitor per worker process: :meth:`ensure_started` runs a first round synchronously,
    then a background greenlet repeats it. With health checks disabled every executor stays
    online with unknown usage and no warm runtimes.
    """

    def __init__(self, config: ProxyConfig, states: list[ExecutorState],
                 report_error: Callable[[str], None] = lambda message: None):
        self._config = config
        self._states = states
        self._report_error = report_error
        self._clients: dict[str, HTTPClient] = {}
        self._headers = {"Authorization": f"Bearer {config.executor_secret}", "User-Agent": "opr-proxy"}
        self._started_pid: int | None = None
        self._loop: gevent.Greenlet | None = None
        self._starting = gevent.lock.Semaphore()

    def ensure_started(self) -> None:
        """Run the first round and start the loop, once per process (cheap when already done)."""
        if self._started_pid == os.getpid():
            return
        with self._starting:
            if self._started_pid == os.getpid():
                return
            self._clients.clear()  # sockets of a parent process are not ours
            if self._config.healthcheck:
                self.run_round()
                self._loop = gevent.spawn(self._run_forever)
            self._started_pid = os.getpid()

    def stop(self) -> None:
        """Stop the loop and close the health-check connections."""
        if self._loop is not None:
            self._loop.kill(block=True)
            self._loop = None
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        self._started_pid = None

    def _run_forever(self) -> None:
        while True:
            gevent.sleep(self._config.healthcheck_interval)
            try:
                self.run_round()
            except Exception:  # a round must never end the loop
                log.exception("health round failed")

    def run_round(self) -> None:
        """Check every executor concurrently, update the states, then send the heartbeat."""
        checks = [gevent.spawn(self._check, state.executor) for state in self._states]
        gevent.joinall(checks)
        all_online = True
        for state, check in zip(self._states, checks):
            report, reason = check.value if check.successful() else (None, repr(check.exception))
            self.apply(state, report, reason)
            all_online = all_online and report is not None
        if all_online and self._config.healthcheck_url:
            self._heartbeat()

    def apply(self, state: ExecutorState, report: HealthReport | None, reason: str = "") -> None:
        """Record the outcome of one check, logging transitions."""
        if report is None:
            self.mark_offline(state, reason)
            return
        if not state.online:
            log.warning("executor %s is back online", state.name)
        state.online = True
        state.usage = report.usage
        state.runtimes = report.runtimes

    def mark_offline(self, state: ExecutorState, reason: str) -> None:
        """Exclude an executor until a later round finds it online (no-op when checks are off)."""
        if not self._config.healthcheck:
            return
        was_online = state.online
        state.online = False
        state.usage = None
        state.runtimes = {}
        if was_online:
            message = f"executor {state.name} went offline: {reason}"
            log.error(message)
            self._report_error(message)

    def _client(self, executor: Executor) -> HTTPClient:
        client = self._clients.get(executor.name)
        if client is None:
            timeout = self._config.healthcheck_timeout
            client = HTTPClient(executor.host, executor.port, concurrency=1,
                                connection_timeout=timeout, network_timeout=timeout)
            self._clients[executor.name] = client
        return client

    def _check(self, executor: Executor) -> tuple[HealthReport | None, str]:
        client = self._client(executor)
        try:
            with gevent.Timeout(self._config.healthcheck_timeout):
                response = client.get(HEALTH_PATH, headers=self._headers)
                body = response.read()
                response.release()
        except (gevent.Timeout, Exception) as error:  # anything means offline
            # A broken pooled socket must not poison the next round.
            client.close()
            self._clients.pop(executor.name, None)
            return None, f"{type(error).__name__}: {error}"
        report = parse_health(response.status_code, body)
        if report is None:
            return None, f"HTTP {response.status_code}, body without status pass"
        return report, ""

    def _heartbeat(self) -> None:
        url = self._config.healthcheck_url
        try:
            with gevent.Timeout(self._config.healthcheck_timeout):
                client = HTTPClient.from_url(url, concurrency=1,
                                             connection_timeout=self._config.healthcheck_timeout,
                                             network_timeout=self._config.healthcheck_timeout)
                try:
                    response = client.get(url)
                    response.read()
                finally:
                    client.close()
            if response.status_code >= 400:
                # The URL may carry a monitor token: it is not logged.
                log.warning("heartbeat answered HTTP %s", response.status_code)
        except (gevent.Timeout, Exception) as error:
            log.warning("heartbeat failed: %s", type(error).__name__)
