"""The Flask application factory of the executor.

Serve it with ONE gunicorn gevent worker (the registry lives in the worker's memory)::

    gunicorn -c deploy/gunicorn/executor.conf.py 'executor.app:create_app()'
"""
from __future__ import annotations

import logging
import threading
import time

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from executor.adapters import create_adapter
from executor.api import blueprint
from executor.auth import bearer_matches
from executor.config import Config
from executor.errors import NO_CACHE, ExecutorError, respond
from executor.fastpath import ExecutionFastPath, log_request
from executor.maintenance import Maintenance
from executor.runtimes import Registry
from executor.services import Services
from executor.storage import Storage
from executor.usage import UsageSampler

log = logging.getLogger("executor")
OPEN_ENDPOINTS = {"executor.health"}
MAX_REQUEST_BYTES = 64 * 1024 * 1024   # a 20 MiB body, JSON-escaped, plus the other params
SHUTDOWN_WAIT_SECONDS = 120             # pools may be waiting for a runtime start to end


class Executor:
    """The running executor: services plus its background loops."""

    def __init__(self, services: Services):
        self.services = services
        self.usage = UsageSampler(services)
        self.maintenance = Maintenance(services)
        self._closed = False
        self._shut = threading.Event()

    def start(self) -> None:
        adapter, hostname = self.services.adapter, self.services.config.hostname
        removed = adapter.remove_orphans(hostname)
        if removed:
            log.info("removed %d orphaned runtime(s) of %s", removed, hostname)
        threading.Thread(target=self._prepare, name="prepare", daemon=True).start()
        self.services.pools.start()
        self.maintenance.start()
        self.usage.start()

    def _prepare(self) -> None:
        try:
            self.services.adapter.prepare()
        except Exception:
            log.exception("adapter start-up work failed")

    def shutdown(self) -> None:
        """Remove this executor's runtimes and stop the loops (SIGTERM, tests). A second call
        waits (bounded) for the first one to finish, so the worker does not exit before it."""
        if self._closed:
            self._shut.wait(SHUTDOWN_WAIT_SECONDS)
            return
        self._closed = True
        try:
            self.maintenance.stop()
            self.usage.stop()
            self.services.pools.shrink()
            self.services.remove_all()
            self.services.artifacts.clear()
            try:
                self.services.adapter.close()
            except Exception:
                log.exception("closing the adapter failed")
        finally:
            self._shut.set()


def create_app(config: Config | None = None, adapter=None) -> Flask:
    """Build the executor app from ``config`` (default: the environment)."""
    config = config or Config.from_env()
    if config.logging_provider == "sentry" and config.logging_config:
        import sentry_sdk

        sentry_sdk.init(dsn=config.logging_config, default_integrations=False)
    config.storage_root.mkdir(parents=True, exist_ok=True)
    services = Services(
        config=config,
        adapter=adapter or create_adapter(config),
        registry=Registry(),
        storage=Storage(config.storage_root, config.storage_roots),
    )
    executor = Executor(services)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.json.sort_keys = False
    app.extensions["executor"] = executor
    app.register_blueprint(blueprint)
    app.wsgi_app = ExecutionFastPath(app.wsgi_app, services, MAX_REQUEST_BYTES)
    _install_hooks(app, config)
    executor.start()
    return app


def _install_hooks(app: Flask, config: Config) -> None:
    @app.before_request
    def authenticate():
        g.started = time.perf_counter()
        if request.endpoint in OPEN_ENDPOINTS:
            return None
        if not bearer_matches(request.headers.get("authorization"), config.secret):
            raise ExecutorError("general_unauthorized")
        return None

    @app.after_request
    def log_access(response: Response) -> Response:
        log_request(request.method, request.path, response.status_code,
                    g.get("started", time.perf_counter()),
                    (request.view_args or {}).get("runtime_id", "-"))
        return response

    @app.errorhandler(Exception)
    def handle_error(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            error = _from_http(error)
        status, payload = respond(error, config, f"{request.method} {request.path}")
        return Response(payload, status=status, mimetype="application/json", headers=NO_CACHE)


def _from_http(error: HTTPException) -> ExecutorError:
    if error.code == 404:
        return ExecutorError("general_route_not_found")
    if error.code == 405:
        return ExecutorError("general_route_not_found", "Method Not Allowed", 405)
    if error.code == 413:
        return ExecutorError("general_argument_invalid", "Request body too large.", 413)
    if error.code and error.code < 500:
        return ExecutorError("general_argument_invalid", error.description or error.name, error.code)
    return ExecutorError("general_unknown")
