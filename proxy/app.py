"""The application factory: ``create_app()`` wires configuration, health, balancing, forwarding."""
from __future__ import annotations

import logging
import sys

from flask import Flask, jsonify, request

from proxy import errors
from proxy.errors import ProxyError

from proxy.balancing import Balancer
from proxy.config import ProxyConfig
from proxy.forwarding import Forwarder
from proxy.health import ExecutorState, HealthMonitor
from proxy.reporting import Reporter

HEALTH_PATH = "/v1/proxy/health"
STATUS_PATH = "/v1/proxy/status"
OWN_PATHS = frozenset((HEALTH_PATH, STATUS_PATH))
log = logging.getLogger("proxy")


class Dispatcher:
    """WSGI entry: the proxy's own endpoint goes to Flask, everything else to the forwarder."""

    def __init__(self, flask_app, forwarder: Forwarder, monitor: HealthMonitor):
        self._flask_app = flask_app
        self._forwarder = forwarder
        self._monitor = monitor

    def __call__(self, environ: dict, start_response):
        if environ.get("PATH_INFO") in OWN_PATHS and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return self._flask_app(environ, start_response)
        self._monitor.ensure_started()  # the first round runs before the first forwarded request
        return self._forwarder(environ, start_response)


class ProxyService:
    """The parts of one proxy instance, kept on ``app.extensions["proxy"]``."""

    def __init__(self, config: ProxyConfig):
        self.config = config
        self.reporter = Reporter(config)
        self.states = [ExecutorState(executor, index) for index, executor in enumerate(config.executors)]
        self.monitor = HealthMonitor(config, self.states, self.reporter.error)
        self.balancer = Balancer(self.states, config.algorithm, config.usage_limit, config.inflight_cap)
        self.forwarder = Forwarder(config, self.states, self.balancer, self.monitor, self.reporter.exception)

    def start(self) -> None:
        """Run the first health round and start the loop in this process (idempotent)."""
        self.monitor.ensure_started()

    def stop(self) -> None:
        self.monitor.stop()
        self.forwarder.close()


def _configure_logging() -> None:
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] proxy: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def create_app(config: ProxyConfig | None = None) -> Flask:
    """Create the proxy; ``config`` defaults to the ``OPR_PROXY_*`` environment."""
    config = config or ProxyConfig.from_env()
    _configure_logging()
    if not config.secret:
        log.warning("OPR_PROXY_SECRET is empty: clients are not authenticated (development only)")
    app = Flask("proxy")
    service = ProxyService(config)
    app.extensions["proxy"] = service

    @app.get(HEALTH_PATH)
    def health():
        return "OK", 200, {"Content-Type": "text/plain"}

    @app.get(STATUS_PATH)
    def status():
        """This worker's view of the executors; 200 when all are online, else 503 (authenticated)."""
        service.monitor.ensure_started()
        try:
            service.forwarder.authenticate(request.environ)
        except ProxyError as error:
            body = errors.error_body(error, config.version, config.development)
            return body, error.status, {"Content-Type": "application/json"}
        executors = [{"name": s.name, "online": s.online, "usage": s.usage, "inflight": s.inflight,
                      "runtimes": sorted(s.runtimes)} for s in service.states]
        all_online = all(s.online for s in service.states)
        return jsonify({"status": "pass" if all_online else "fail", "executors": executors}), 200 if all_online else 503

    app.wsgi_app = Dispatcher(app.wsgi_app, service.forwarder, service.monitor)
    return app
