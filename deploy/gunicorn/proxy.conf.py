"""gunicorn configuration of the proxy.

    gunicorn -c deploy/gunicorn/proxy.conf.py 'proxy.app:create_app()'

Sizing, from OPR_PROXY_WORKER_PER_CORE (default 6) and the cores this process may use:
  workers            = cores                                (gevent worker processes)
  worker_connections = 1000 x OPR_PROXY_WORKER_PER_CORE     (concurrent clients per worker)
A gevent worker is an event loop that serves all its connections concurrently, so one
process per core already keeps every core busy; OPR_PROXY_WORKER_PER_CORE sets how much
concurrency each core takes. More processes per core were measured to cost throughput
(bench/proxy.py: 6 processes per core served half or less of the requests of 1),
see proxy/README.md.
Each worker runs its own health loop and keeps its own keep-alive pool per executor.

Command-line options (--bind, --workers, ...) override these values.
"""
import os
import sys

from proxy.config import ConfigError, ProxyConfig

try:
    _config = ProxyConfig.from_env()
except ConfigError as error:  # one line naming the variable, no traceback
    sys.stderr.write(f"proxy: configuration error: {error}\n")
    sys.exit(2)

_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

bind = os.environ.get("OPR_PROXY_BIND", "0.0.0.0:80")
worker_class = "opr_http.worker.LeanWorker"  # gevent pywsgi with a lean header parser (opr_http/worker.py)
workers = max(1, _cores)
worker_connections = 1000 * _config.worker_per_core
# A request may last OPR_PROXY_MAX_TIMEOUT; the worker timeout must never cut it shorter.
timeout = int(_config.max_timeout) + 30
graceful_timeout = 30
keepalive = 75  # seconds an idle client connection stays open (longer than nginx's upstream keepalive)
accesslog = None  # the hot path does not log every request
errorlog = "-"


def post_worker_init(worker):
    """Check the executors once before this worker serves, and start its health loop."""
    worker.wsgi.extensions["proxy"].start()


def worker_exit(server, worker):
    service = getattr(getattr(worker, "wsgi", None), "extensions", {}).get("proxy")
    if service is not None:
        service.stop()


# gunicorn's control socket has one default path per user: several proxies (or other gunicorn
# services) on one host would fight over it, and the proxy needs no runtime control.
control_socket_disable = True
