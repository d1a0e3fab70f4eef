"""gunicorn settings of the executor: ONE gevent worker (the runtime registry lives in its
memory; gevent gives the concurrency).

    gunicorn -c deploy/gunicorn/executor.conf.py 'executor.app:create_app()'

``OPR_EXECUTOR_BIND`` (default ``127.0.0.1:3000``) sets the listen address.
"""
import logging
import os
import sys

bind = os.environ.get("OPR_EXECUTOR_BIND", "127.0.0.1:3000")
workers = 1                       # never more: see spec 4.1
# gevent's pywsgi with a lean header parser and one-write responses (opr_http/worker.py): about
# 0.2 ms less CPU per request than gunicorn's own gevent worker.
worker_class = "opr_http.worker.LeanWorker"
worker_connections = 2000
timeout = 0                       # executions and builds last as long as their own timeouts
# SIGTERM removes the runtimes at once (see post_worker_init), so executions still in flight
# end quickly; idle keep-alive connections must not hold the exit for long either.
graceful_timeout = 5
keepalive = 5
accesslog = None                  # the app logs one line per request itself
# Several executors may run on one host: no shared control socket in $HOME.
control_socket_disable = True
loglevel = os.environ.get("OPR_EXECUTOR_LOG_LEVEL", "info")


def on_starting(server):
    """Validate the configuration before any worker starts: one line, then exit."""
    from executor.config import Config, ConfigError

    try:
        Config.from_env()
    except ConfigError as error:
        print(f"executor: invalid configuration: {error}", file=sys.stderr)
        sys.exit(1)


def post_fork(server, worker):
    logging.basicConfig(level=getattr(logging, loglevel.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _executor(worker):
    app = getattr(worker, "wsgi", None)
    return getattr(app, "extensions", {}).get("executor") if app is not None else None


def post_worker_init(worker):
    """On SIGTERM, stop accepting (gunicorn) and remove this executor's runtimes right away,
    instead of after the graceful drain, which idle keep-alive connections can stretch."""
    import signal

    import gevent

    stop_worker = worker.handle_exit

    def handle_term(sig, frame):
        stop_worker(sig, frame)
        executor = _executor(worker)
        if executor is not None:
            gevent.spawn(executor.shutdown)

    worker.handle_exit = handle_term
    signal.signal(signal.SIGTERM, handle_term)


def worker_exit(server, worker):
    """Whatever the way out, remove the runtimes still registered (idempotent)."""
    executor = _executor(worker)
    if executor is not None:
        executor.shutdown()
